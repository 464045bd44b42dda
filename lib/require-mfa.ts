import type { RequestHandler } from 'express';
import type { MfaCore } from './core.js';
import { MfaError } from './errors.js';
import { sendError } from './http.js';
import { recoveryUserId, signInStage } from './session.js';
import { MINUTE } from './time.js';

/**
 * Builds `requireMfa(maxAgeMs)`: passes when the current user's last MFA in this session is at most
 * `maxAgeMs` old (`Infinity`: once per session). The pass path reads only the session express-session
 * already loaded: no store command, and it never modifies `req.session`.
 */
export function createRequireMfa(core: MfaCore) {
  return function requireMfa(maxAgeMs: number = 5 * MINUTE): RequestHandler {
    if (typeof maxAgeMs !== 'number' || Number.isNaN(maxAgeMs) || maxAgeMs < 0) {
      throw new TypeError(
        `requireMfa(maxAgeMs) takes milliseconds >= 0 (e.g. 5 * MINUTE), got ${String(maxAgeMs)}`,
      );
    }
    return (req, res, next) => {
      if (!req.session) {
        return sendError(
          res,
          new MfaError('unavailable', 'The session store is unavailable. Try again shortly.'),
        );
      }
      const now = core.now();
      if (recoveryUserId(req, now) !== undefined) {
        return sendError(
          res,
          new MfaError('recovery_only', 'This recovery session can only set up new factors.'),
        );
      }
      // A sign-in waiting for its second (or first) factor is nobody yet.
      if (signInStage(req, now) !== undefined) {
        return sendError(res, new MfaError('unauthenticated', 'Finish signing in first.'));
      }
      let user: ReturnType<MfaCore['appUser']>;
      try {
        user = core.appUser(req);
      } catch (error) {
        return next(error);
      }
      if (!user) return sendError(res, new MfaError('unauthenticated', 'Sign in first.'));
      const state = req.session.mfa;
      if (state?.userId === user.id && state.verifiedAt !== undefined && now - state.verifiedAt <= maxAgeMs) {
        return next();
      }
      // Refusing is the slow path: look up the user's factors so the client knows what to offer.
      core.staleMfaError(req, user.id, user).then(
        (error) => sendError(res, error),
        () => sendError(res, new MfaError('unavailable', 'The MFA store is unavailable. Try again shortly.')),
      );
    };
  };
}
