import type { Request, RequestHandler, Response } from 'express';
import { MfaError } from './errors.js';
import { sendError } from './http.js';
import type { MfaConfig } from './options.js';

const MESSAGE = 'Sessions are unavailable right now. Try again shortly.';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Temporarily unavailable</h1><p>${MESSAGE}</p></body></html>
`;

/** 503 `unavailable`: JSON, or a small page for a browser that asks for HTML. */
function answerUnavailable(req: Request, res: Response): void {
  res.set('Cache-Control', 'no-store');
  if (req.accepts(['json', 'html']) === 'html') {
    res.status(503).type('html').send(PAGE);
    return;
  }
  sendError(res, new MfaError('unavailable', MESSAGE));
}

export interface SessionWrapperOptions {
  /**
   * Answers a request while the session store is down, instead of the built-in 503 (JSON, or a small
   * page for a browser): e.g. the app's own styled 503 page. It must answer; it receives the 503
   * `unavailable` error. A throw falls back to the built-in answer.
   */
  onUnavailable?: (req: Request, res: Response, error: MfaError) => void;
}

/**
 * Builds `mfa.session(sessionMiddleware, options?)`: runs express-session (or a compatible middleware) and,
 * when it fails (its store is down or never connected), answers every request 503 `unavailable`
 * instead of express-session's 500 page with a stack trace, and never lets the request on without a
 * session (nobody can be taken for signed out while the store is down). One log line per outage.
 */
export function createSessionWrapper(config: MfaConfig) {
  return function wrapSession(
    middleware: RequestHandler,
    options: SessionWrapperOptions = {},
  ): RequestHandler {
    if (typeof middleware !== 'function') {
      throw new TypeError(
        'mfa.session(middleware) takes the session middleware: mfa.session(session({ ... }))',
      );
    }
    const { onUnavailable } = options;
    if (onUnavailable !== undefined && typeof onUnavailable !== 'function') {
      throw new TypeError(
        'mfa.session(middleware, { onUnavailable }): onUnavailable must be (req, res, error) => void',
      );
    }
    let down = false;
    const fail = (req: Request, res: Response, next: (error?: unknown) => void, error: unknown) => {
      if (!down) {
        down = true;
        // The message only: store clients attach command arguments (session data) to their errors.
        const why =
          error === undefined
            ? 'the session store is not connected (express-session went on without a session)'
            : `the session store failed: ${error instanceof Error ? error.message : String(error)}`;
        config.logger.error(`express-mfa: ${why}; every request is answered 503 until it recovers.`);
      }
      if (res.headersSent) return next(error ?? new Error('session unavailable'));
      if (onUnavailable) {
        res.set('Cache-Control', 'no-store');
        try {
          return onUnavailable(req, res, new MfaError('unavailable', MESSAGE));
        } catch (failure) {
          config.logger.error(
            'express-mfa: mfa.session onUnavailable threw; answered the built-in 503',
            String(failure),
          );
          if (res.headersSent) return;
        }
      }
      answerUnavailable(req, res);
    };
    return (req, res, next) => {
      try {
        middleware(req, res, (error?: unknown) => {
          // `next('route')` and `next('router')` are routing, not failures.
          if (error === 'route' || error === 'router') return next(error);
          if (error || !req.session) return fail(req, res, next, error);
          down = false;
          next();
        });
      } catch (error) {
        fail(req, res, next, error);
      }
    };
  };
}
