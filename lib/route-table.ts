import type { Router } from 'express';
import { type Handler, METHODS } from './async-router.js';

type Method = Exclude<(typeof METHODS)[number], 'all'>;

/** Route methods of one part of the router (a factor's routes, say), paths relative to its prefix. */
export type Routes = Record<Method, (path: string, ...handlers: Handler[]) => Routes>;

/**
 * Every part's routes straight on one router: `table.at('/totp').post('/verify', h)` is
 * `router.post('/totp/verify', h)`, and `'/'` is the prefix itself (which, like a mounted router's
 * `'/'`, also matches with a trailing slash). One router holding every route, rather than a router per
 * part mounted with `use`, spares each request a nested router's pass: its path trimmed and restored,
 * the URL parsed again, its layers walked. `router` should be an `asyncRouter`.
 *
 * `answerOptions()`, after the last part, adds OPTIONS for every path: 200 with `Allow`, as Express
 * answers it. A nested router did that by itself, because nothing came after its routes; on a router
 * that ends in a 404 handler the request would reach the 404 instead. Added after the routes, so the
 * other methods' requests never pass these layers on the way to their own.
 */
export function routeTable(router: Router): { at(prefix: string): Routes; answerOptions(): void } {
  const methodsByPath = new Map<string, Set<string>>();
  return {
    at(prefix) {
      const routes = {} as Routes;
      for (const method of METHODS) {
        if (method === 'all') continue;
        const add = router[method].bind(router) as (path: string, ...handlers: Handler[]) => Router;
        routes[method] = (path, ...handlers) => {
          const full = path === '/' ? prefix : prefix + path;
          const methods = methodsByPath.get(full) ?? new Set<string>();
          methodsByPath.set(full, methods);
          methods.add(method.toUpperCase());
          add(full, ...handlers);
          return routes;
        };
      }
      return routes;
    },
    answerOptions() {
      for (const [path, methods] of methodsByPath) {
        const allow = [...methods].flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).join(', ');
        router.options(path, (_req, res) => {
          res.setHeader('Allow', allow);
          res.setHeader('Content-Type', 'text/plain; charset=utf-8');
          res.setHeader('X-Content-Type-Options', 'nosniff');
          res.status(200).end(allow);
        });
      }
    },
  };
}
