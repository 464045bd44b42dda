import type { RequestHandler } from 'express';
import { MfaError } from './errors.js';
import { noStore, sendError } from './http.js';
import type { MfaConfig } from './options.js';

/**
 * The router's first middleware: catches the ways an app can mount it wrong and says so, once each,
 * in one sentence, instead of a silent 503 or 404; then hands the request to `proceed`, the rest of
 * the router's common work, in the same layer (each router layer costs a match and a `next`).
 */
export function routerDiagnostics(config: MfaConfig, proceed: RequestHandler): RequestHandler {
  const said = new Set<string>();
  const warnOnce = (key: string, message: string) => {
    if (said.has(key)) return;
    said.add(key);
    config.logger.warn(`express-mfa: ${message}`);
  };
  return (req, res, next) => {
    if (req.baseUrl === '') {
      // Without a path the router would take every request of the app: its JSON 404 and 415 would
      // swallow the app's own routes. It steps aside instead, and the log says why MFA is missing.
      warnOnce(
        'path',
        "the router is mounted without a path: use app.use('/auth/mfa', mfa.router). It ignores every request until then.",
      );
      return next('router');
    }
    if (!req.session) {
      // express-session also goes on without a session while its store is disconnected, and leaves
      // no trace of itself then: the sentence names both causes.
      warnOnce(
        'no-session',
        'no session on the request: either no session middleware runs before app.use(path, mfa.router), or its store is not connected. Add app.use(mfa.session(session({ ... }))) before the router (mfa.session also reports store outages).',
      );
      // The routes answer 503 `unavailable`: without a session nobody's state can be read.
      return proceed(req, res, next);
    }
    if (typeof req.session.regenerate !== 'function' || typeof req.session.save !== 'function') {
      // Refused before anything is written: a factor stored and then an elevation that cannot
      // regenerate the session id would leave the user with a factor they could never use.
      warnOnce(
        'regenerate',
        'the session middleware cannot regenerate or save sessions (cookie-session cannot): use express-session.',
      );
      noStore(res);
      return sendError(
        res,
        new MfaError('unavailable', 'Multi-factor authentication is not available on this server right now.'),
      );
    }
    proceed(req, res, next);
  };
}
