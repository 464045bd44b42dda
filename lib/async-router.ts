import { type NextFunction, type Request, type Response, Router } from 'express';

type Handler = (req: Request, res: Response, next: NextFunction) => unknown;

const METHODS = ['all', 'get', 'post', 'put', 'patch', 'delete'] as const;

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

type Method = Exclude<(typeof METHODS)[number], 'all'>;

/** Route methods of one part of the router (a factor's routes, say), paths relative to its prefix. */
export type Routes = Record<Method, (path: string, ...handlers: Handler[]) => Routes>;

/** The methods of each path routesAt has added to a router, for its OPTIONS answers. */
const methodsByPath = new WeakMap<Router, Map<string, Set<string>>>();

/**
 * Adds a part's routes straight onto `router` under `prefix`: `routesAt(router, '/totp').post('/verify', h)`
 * is `router.post('/totp/verify', h)`, and `'/'` is the prefix itself (which, like a mounted router's
 * `'/'`, also matches with a trailing slash). One router holding every route, rather than a router per
 * part mounted with `use`, spares each request a nested router's pass: its path trimmed and restored,
 * the URL parsed again, its layers walked. `router` should be an `asyncRouter`; after the last part,
 * `answerOptions(router)` gives OPTIONS its answers.
 */
export function routesAt(router: Router, prefix: string): Routes {
  const known = methodsByPath.get(router) ?? new Map<string, Set<string>>();
  methodsByPath.set(router, known);
  const routes = {} as Routes;
  for (const method of METHODS) {
    if (method === 'all') continue;
    const add = router[method].bind(router) as (path: string, ...handlers: Handler[]) => Router;
    routes[method] = (path, ...handlers) => {
      const full = path === '/' ? prefix : prefix + path;
      const methods = known.get(full) ?? new Set<string>();
      known.set(full, methods);
      methods.add(method.toUpperCase());
      add(full, ...handlers);
      return routes;
    };
  }
  return routes;
}

/**
 * OPTIONS for every path routesAt added to `router`: 200 with `Allow`, as Express answers it. A nested
 * router did that by itself, because nothing came after its routes; on a router that ends in a 404
 * handler the request would reach the 404 instead. Added after the routes, so the other methods'
 * requests never pass these layers on the way to their own.
 */
export function answerOptions(router: Router): void {
  for (const [path, methods] of methodsByPath.get(router) ?? []) {
    const allow = [...methods].flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).join(', ');
    router.options(path, (_req, res) => {
      res.setHeader('Allow', allow);
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.status(200).end(allow);
    });
  }
}
