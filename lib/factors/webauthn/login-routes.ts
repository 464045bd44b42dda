import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { type Request, Router } from 'express';
import { emptyBody } from '../../bodies.js';
import { MfaError } from '../../errors.js';
import { parseBody } from '../../http.js';
import { tooManyAttempts } from '../../limits.js';
import type { MfaOptions } from '../../options.js';
import { regenerateSession, saveSession } from '../../session.js';
import { beginLoginCeremony, redeemLoginChallenge, usable } from './challenges.js';
import { assertionBody } from './webauthn-bodies.js';
import { authenticationOptions, checkAssertion } from './webauthn-ceremonies.js';
import { invalidPasskey, recordUse, type WebAuthnContext } from './webauthn-context.js';
import { webauthnKeys } from './webauthn-keys.js';

type OnLogin = NonNullable<MfaOptions['onLogin']>;

/**
 * `POST /login/options` and `POST /login/verify`: passwordless sign-in with a discoverable passkey.
 * Failures are limited per client address, never per user: credential ids are public, so a per-user
 * lock would let anyone lock a user out.
 */
export function loginRoutes(ctx: WebAuthnContext, onLogin: OnLogin): Router {
  const { core, config, records } = ctx;
  const { store } = core;
  const router = Router();
  const failKey = (req: Request) => webauthnKeys.loginFailures(req.ip ?? 'unknown');

  /** Counts the attempt for this client: resolves on success, throws 401 or 429 otherwise. */
  async function clientAttempt(req: Request, ok: boolean, ownerId: string | null): Promise<void> {
    const { maxFailures, windowMs, lockoutMs } = config.loginLimits;
    const result = await store.attempt({
      failKey: failKey(req),
      limit: maxFailures,
      windowMs,
      lockMs: lockoutMs,
      now: core.now(),
      action: { kind: 'check', ok },
    });
    if (result.status === 'ok') return;
    if (result.status === 'locked') throw tooManyAttempts(result.retryAfterMs);
    // The account owner's audit trail hears of failed sign-ins with their passkey; unknown ones have no owner.
    if (ownerId !== null) {
      core.emit(req, ownerId, {
        type: 'failed',
        factor: 'webauthn',
        failures: result.failures,
        passwordless: true,
      });
    }
    throw invalidPasskey();
  }

  router.post('/login/options', async (req, res) => {
    parseBody(emptyBody, req.body);
    const challenge = await beginLoginCeremony(core, config, req);
    // No allowCredentials: the authenticator offers its discoverable passkeys for this RP.
    res.json(await authenticationOptions({ config, challenge, allow: [], userVerification: 'required' }));
  });

  router.post('/login/verify', async (req, res) => {
    const { response } = parseBody(assertionBody, req.body);
    if (!req.session)
      throw new MfaError('unavailable', 'The session store is unavailable. Try again shortly.');
    const now = core.now();
    const lock = await store.failures(failKey(req), now);
    if (lock.lockedUntil !== null) throw tooManyAttempts(lock.lockedUntil - now);

    const pending = usable(req.session.mfaLoginChallenge, 'login', now);
    const ownerId = pending ? await records.owner(response.id) : null;
    const record = ownerId === null ? undefined : await records.get(ownerId, response.id);
    const assertion =
      pending && record
        ? await checkAssertion({
            config,
            response: response as AuthenticationResponseJSON,
            challenge: pending.challenge,
            record,
            // A passkey alone signs in only with user verification (PIN, biometrics): two factors in one.
            requireUserVerification: true,
          })
        : null;
    // WebAuthn §7.2 step 6: with no user identified beforehand, the user handle must be present and
    // name the account that holds the credential.
    const handleOk = record !== undefined && response.response.userHandle === record.userHandle;
    if (!pending || !record || !assertion?.userVerified || !handleOk || ownerId === null) {
      return clientAttempt(req, false, ownerId);
    }
    // Single use: parallel requests share this session, so the store's atomic take picks the one.
    if (!(await redeemLoginChallenge(core, pending))) return clientAttempt(req, false, ownerId);
    if (!(await recordUse(ctx, req, ownerId, record.id, assertion)))
      return clientAttempt(req, false, ownerId);
    await clientAttempt(req, true, ownerId);

    // A new, clean session: the old one was anonymous or someone else's, and its id may have been fixed.
    await regenerateSession(req);
    await onLogin(req, ownerId);
    if (core.appUser(req)?.id !== ownerId) {
      throw new Error('express-mfa: after onLogin(req, userId), getUser(req) must return that user');
    }
    const verifiedAt = core.now();
    req.session.mfa = { userId: ownerId, verifiedAt, methods: ['webauthn'] };
    await saveSession(req);
    core.emit(req, ownerId, { type: 'verified', factor: 'webauthn', passwordless: true });
    res.json({ ok: true, userId: ownerId, verifiedAt });
  });

  return router;
}
