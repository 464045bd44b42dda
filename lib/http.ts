import express, { type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import { MfaError } from './errors.js';
import type { LazySchema } from './lazy-schema.js';
import { StoreUnavailableError } from './stores/store.js';

/** Answers an MfaError in the contract's shape, with `Retry-After` when it says when to retry. */
export function sendError(res: Response, error: MfaError): void {
  if (typeof error.extra.retryAfter === 'number') res.set('Retry-After', String(error.extra.retryAfter));
  res.status(error.status).json({ error: error.code, message: error.message, ...error.extra });
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
// Compressed bodies are refused (415): a 16 kB code request never needs them, and inflating is attack surface.
const parseJson = express.json({ limit: '16kb', strict: true, inflate: false });

/**
 * Only JSON bodies on state-changing routes: a plain cross-site HTML form cannot send
 * `application/json`, so it cannot drive these routes. The header is checked even when the body is
 * empty (DELETE), which `req.is` would skip.
 */
export const jsonOnly: RequestHandler = (req, res, next) => {
  if (!STATE_CHANGING.has(req.method)) return next();
  const header = req.headers['content-type'];
  // The usual header as it comes, else its media type without parameters, case and spaces.
  const type = header === 'application/json' ? header : (header ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    return sendError(
      res,
      new MfaError(
        'unsupported_media_type',
        'Send the request body as JSON with Content-Type: application/json.',
      ),
    );
  }
  parseJson(req, res, next);
};

/** Every MFA answer is about one session and may carry secrets: never cache it. */
export function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
}

export const notFound: RequestHandler = (req, res) => {
  sendError(res, new MfaError('not_found', `There is no ${req.method} ${req.path} here.`));
};

/** Maps every error to the contract; an unexpected one becomes a 500 with no detail. */
export function errorHandler(report: (error: unknown) => void): ErrorRequestHandler {
  return (error, _req, res, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof MfaError) return sendError(res, error);
    // By name too: a store built from the other build (ESM or CommonJS) of this package has its own class.
    if (error instanceof StoreUnavailableError || (error as Error)?.name === 'StoreUnavailableError') {
      return sendError(res, new MfaError('unavailable', 'The MFA store is unavailable. Try again shortly.'));
    }
    const type = (error as { type?: unknown })?.type;
    if (type === 'entity.too.large') {
      return sendError(
        res,
        new MfaError('payload_too_large', 'The request body is too large (16 kB at most).'),
      );
    }
    if (type === 'entity.parse.failed') {
      return sendError(res, new MfaError('invalid_request', 'The request body is not valid JSON.'));
    }
    if (type === 'encoding.unsupported') {
      return sendError(res, new MfaError('unsupported_media_type', 'Send the JSON body uncompressed.'));
    }
    if (type === 'charset.unsupported') {
      return sendError(res, new MfaError('unsupported_media_type', 'Send the JSON body as UTF-8.'));
    }
    const status = (error as { status?: unknown })?.status;
    // Parser and router errors about the request itself (a bad body, a malformed %-escape in a path
    // parameter) carry a 4xx status: they are the client's mistake, never a 500.
    if (error instanceof URIError || (error as { code?: unknown })?.code === 'URI_ERROR') {
      return sendError(res, new MfaError('invalid_request', 'The path is not valid %-encoding.'));
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendError(res, new MfaError('invalid_request', 'The request body could not be read.'));
    }
    report(error);
    sendError(res, new MfaError('internal', 'Something went wrong. Try again.'));
  };
}

/** Parses a body with a zod schema; a mismatch is a 400 whose message names the field. */
export async function parseBody<T>(lazy: LazySchema<T>, body: unknown): Promise<T> {
  const result = (lazy.built() ?? (await lazy.get())).safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? `\`${issue.path.join('.')}\`: ` : '';
  throw new MfaError('invalid_request', `${field}${issue?.message ?? 'The request body is not valid.'}`);
}
