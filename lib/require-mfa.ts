import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { MfaCore } from './core.js';
import { MfaError } from './errors.js';
import { answerRefusal } from './guard/answer-refusal.js';
import { clientFingerprint } from './guard/client-fingerprint.js';
import { type Counted, countedVerification } from './guard/counted-verification.js';
import { type GuardOptions, type GuardVerification, parseGuardOptions } from './guard/guard-options.js';
import { guardRefusal, type StaleReason } from './guard/guard-refusal.js';
import type { FactorName } from './keys.js';
import type { MfaConfig, MfaUser } from './options.js';
import { recoveryUserId, signInStage } from './session.js';
import { MINUTE } from './time.js';

/** What `res.locals.mfa` holds on the pass path, for views. */
export interface MfaLocals {
  /** When the verification this guard counted happened (ms). */
  verifiedAt: number;
  /** Its factor; undefined for a session verified before per-factor times were kept. */
  method: FactorName | undefined;
  /** Every factor used in this session. */
  methods: FactorName[];
  /** When this guard stops passing (ms); null for `requireMfa(Infinity)`. */
  verifiedUntil: number | null;
}

/** The factors this instance serves: a guard's `methods` may only name these. */
function servedFactors(config: MfaConfig): FactorName[] {
  const served: FactorName[] = ['totp', 'backup_codes'];
  if (config.webauthn) served.push('webauthn');
  if (config.sms) served.push('sms');
  if (config.email) served.push('email');
  return served;
}

const NONE: Counted = { kind: 'none' };

/**
 * Builds `requireMfa(maxAgeMs, options)`: passes when the current user's last MFA in this session (by
 * one of `methods`, from the same client with `sameClient`) is at most `maxAgeMs` old (`Infinity`:
 * once per session) and `risk` does not object. The pass path reads only the session express-session
 * already loaded: no store command, and it never modifies `req.session`.
 */
export function createRequireMfa(core: MfaCore) {
  const fingerprint = clientFingerprint(core.keyring);
  const served = servedFactors(core.config);

  return function requireMfa(maxAgeMs: number = 5 * MINUTE, options?: GuardOptions): RequestHandler {
    const policy = parseGuardOptions(maxAgeMs, options, served);
    const answers = { onRequired: policy.onRequired ?? core.config.onRequired, pages: core.config.pages };
    const refuse = (req: Request, res: Response, next: NextFunction, error: MfaError) =>
      answerRefusal(req, res, next, error, answers);

    /** The slow path: look up the user's factors so the client knows what to offer. */
    const refuseStale = (
      req: Request,
      res: Response,
      next: NextFunction,
      user: MfaUser,
      reason: StaleReason,
    ) => {
      guardRefusal(core, user, policy.methods, reason)
        .then(
          (error) => refuse(req, res, next, error),
          () =>
            refuse(
              req,
              res,
              next,
              new MfaError('unavailable', 'The MFA store is unavailable. Try again shortly.'),
            ),
        )
        .catch(next);
    };

    return (req, res, next) => {
      if (!req.session) {
        return refuse(
          req,
          res,
          next,
          new MfaError('unavailable', 'The session store is unavailable. Try again shortly.'),
        );
      }
      const now = core.now();
      if (recoveryUserId(req, now) !== undefined) {
        return refuse(
          req,
          res,
          next,
          new MfaError('recovery_only', 'This recovery session can only set up new factors.'),
        );
      }
      // A sign-in waiting for its second (or first) factor is nobody yet.
      if (signInStage(req, now) !== undefined) {
        return refuse(req, res, next, new MfaError('unauthenticated', 'Finish signing in first.'));
      }
      let user: ReturnType<MfaCore['appUser']>;
      try {
        user = core.appUser(req);
      } catch (error) {
        return next(error);
      }
      if (!user) return refuse(req, res, next, new MfaError('unauthenticated', 'Sign in first.'));
      const state = req.session.mfa;
      const counted =
        state?.userId === user.id
          ? countedVerification(state, now, policy, policy.sameClient ? fingerprint(req) : undefined)
          : NONE;
      if (counted.kind !== 'pass') return refuseStale(req, res, next, user, counted.kind);

      const methods = state?.methods ?? [];
      const pass = () => {
        const locals: MfaLocals = {
          verifiedAt: counted.verifiedAt,
          method: counted.method,
          methods,
          verifiedUntil: Number.isFinite(policy.maxAgeMs) ? counted.verifiedAt + policy.maxAgeMs : null,
        };
        res.locals.mfa = locals;
        next();
      };
      const risk = policy.risk;
      if (!risk) return pass();

      const signedIn = user;
      const verification: GuardVerification = {
        userId: signedIn.id,
        verifiedAt: counted.verifiedAt,
        method: counted.method,
        methods: [...methods],
        ageMs: now - counted.verifiedAt,
      };
      const decide = (verdict: unknown) => {
        if (verdict === false) return pass();
        if (verdict !== true) {
          return next(
            new TypeError(
              `express-mfa: requireMfa's risk() must return true or false, got ${String(verdict)}`,
            ),
          );
        }
        core.emit(req, signedIn.id, {
          type: 'step_up_risk',
          factor: counted.method,
          verifiedAt: counted.verifiedAt,
          path: req.baseUrl + req.path,
        });
        refuseStale(req, res, next, signedIn, 'risk');
      };
      let verdict: boolean | Promise<boolean>;
      try {
        verdict = risk(req, verification);
      } catch (error) {
        return next(error);
      }
      if (verdict !== null && typeof verdict === 'object' && typeof verdict.then === 'function') {
        // Fails closed: a rejection refuses the request through next(error), never an unhandled rejection.
        Promise.resolve(verdict).then(decide, next).catch(next);
        return;
      }
      decide(verdict);
    };
  };
}
