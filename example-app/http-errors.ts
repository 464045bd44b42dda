import type { NextFunction, Request, Response } from 'express';
import { MfaError } from '../lib/index.js';
import { sendErrorPage, wantsPage } from './error-pages.js';

/** An error a JSON route answers as `status` + `{ error: code, message }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new HttpError(400, 'invalid_request', message);

/** Unknown addresses: the styled page for a browser, JSON for API clients. */
export function notFound(req: Request, res: Response): void {
  if (wantsPage(req)) sendErrorPage(res, 404);
  else res.status(404).json({ error: 'not_found', message: 'There is nothing at this address.' });
}

/**
 * The last handler: a styled page for a browser's page request (a 503 while the session store is
 * down, not raw JSON), JSON for the app's own errors and bad bodies, a logged 500 for the rest.
 */
export function errorHandler(log: (line: string) => void) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (wantsPage(req)) {
      const status =
        err instanceof HttpError || err instanceof MfaError
          ? err.status
          : Number((err as { status?: unknown })?.status);
      if (!(err instanceof HttpError) && !(err instanceof MfaError) && !(status >= 400 && status < 500))
        log(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      sendErrorPage(res, status >= 400 && status < 600 ? status : 500);
      return;
    }
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: err.code, message: err.message });
      return;
    }
    // mfa.signIn in the app's own login route: e.g. a 503 while a store is down, in the package's shape.
    if (err instanceof MfaError) {
      res.status(err.status).json({ error: err.code, message: err.message, ...err.extra });
      return;
    }
    const { type, status } = (err ?? {}) as { type?: unknown; status?: unknown };
    if (type === 'entity.parse.failed') {
      res.status(400).json({ error: 'invalid_request', message: 'The request body is not valid JSON.' });
    } else if (type === 'entity.too.large') {
      res.status(413).json({ error: 'payload_too_large', message: 'The request body is too large.' });
    } else if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: 'invalid_request', message: 'The request could not be understood.' });
    } else {
      log(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      res
        .status(500)
        .json({ error: 'internal', message: 'Something went wrong on our side. Please try again.' });
    }
  };
}
