import { type NextFunction, type Request, type Response, Router } from 'express';

export type Handler = (req: Request, res: Response, next: NextFunction) => unknown;

export const METHODS = ['all', 'get', 'post', 'put', 'patch', 'delete'] as const;

/**
 * Passes a handler's rejected promise (or synchronous throw) to `next`, so it reaches the router's
 * error handler. Express 5 does this itself; Express 4 ignores the promise, and the rejection would
 * be unhandled (which ends a Node process by default).
 */
function caught(handler: unknown): unknown {
  // Error handlers (four parameters) and non-functions (paths, arrays of handlers) pass as they are.
  if (typeof handler !== 'function' || handler.length > 3) return handler;
  const run = handler as Handler;
  return function caughtHandler(req: Request, res: Response, next: NextFunction): void {
    try {
      const result = run(req, res, next);
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).then(undefined, (error: unknown) =>
          next(error ?? new Error('rejected')),
        );
      }
    } catch (error) {
      next(error);
    }
  };
}

/**
 * `express.Router()` whose route handlers may be async on Express 4 and 5 alike: every rejection is
 * handed to `next(error)`, never left unhandled. Only the method helpers (`get`, `post`, ...) are
 * wrapped; mount nested routers with `use` as usual.
 */
export function asyncRouter(): Router {
  const router = Router();
  for (const method of METHODS) {
    const original = router[method].bind(router) as (...args: unknown[]) => Router;
    (router as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
      original(...args.map(caught));
  }
  return router;
}
