import type { NextFunction, Request, Response } from 'express';

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

/** The last handler: JSON for the app's own errors and bad bodies, a logged 500 for the rest. */
export function errorHandler(log: (line: string) => void) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: err.code, message: err.message });
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
