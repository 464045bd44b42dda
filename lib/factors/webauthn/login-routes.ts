import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Request } from 'express';
import { emptyBody } from '../../bodies.js';
import { MfaError } from '../../errors.js';
import { withReturnTo } from '../../guard/return-to.js';
import { parseBody } from '../../http.js';
import { tooManyAttempts } from '../../limits.js';
import type { MfaOptions } from '../../options.js';
import type { Routes } from '../../route-table.js';
import { verifiedState } from '../../session.js';
import { completeSignIn } from '../../sign-in/complete-sign-in.js';
import { MINUTE } from '../../time.js';
import { beginLoginCeremony, redeemLoginChallenge, usable } from './challenges.js';
import { assertionBody } from './webauthn-bodies.js';
import { authenticationOptions, checkAssertion } from './webauthn-ceremonies.js';
import { invalidPasskey, recordUse, type WebAuthnContext } from './webauthn-context.js';
import { webauthnKeys } from './webauthn-keys.js';

type OnLogin = NonNullable<MfaOptions['onLogin']>;

/**
 * `POST /login/options` and `POST /login/verify`: passwordless sign-in with a discoverable passkey.
 * Limited per client address, never per user: credential ids are public, so a per-user lock would let
 * anyone lock a user out.
 */
export function loginRoutes(ctx: WebAuthnContext, onLogin: OnLogin, router: Routes): void {
  const { core, config, records } = ctx;
  const { store } = core;
  const client = (req: Request) => req.ip ?? 'unknown';

  /**
   * Counts a failed sign-in of this client and answers it (401, or 429 once locked). Only failures
   * touch the counter: a success must not reset it, or an attacker could put a sign-in with their own
   * passkey between guesses and never be limited.
   */
  async function clientFailure(req: Request, ownerId: string | null): Promise<never> {
    const { maxFailures, windowMs, lockoutMs } = config.loginLimits;
    const result = await store.attempt({
      failKey: webauthnKeys.loginFailures(client(req)),
      limit: maxFailures,
      windowMs,
      lockMs: lockoutMs,
      now: core.now(),
      action: { kind: 'check', ok: false },
    });
    if (result.status === 'locked') throw tooManyAttempts(result.retryAfterMs);
    // The account owner's audit trail hears of failed sign-ins with their passkey; unknown ones have no owner.
    if (ownerId !== null && result.status === 'invalid') {
      core.emit(req, ownerId, {
        type: 'failed',
        factor: 'webauthn',
        failures: result.failures,
        passwordless: true,
      });
    }
    throw invalidPasskey();
  }

  /** Each options call may create a session and a marker: a client gets a generous but finite number. */
  async function admitOptions(req: Request): Promise<void> {
    const result = await store.attempt({
      failKey: webauthnKeys.loginOptions(client(req)),
      limit: config.loginLimits.maxOptionsPerMinute,
      windowMs: MINUTE,
      lockMs: MINUTE,
      now: core.now(),
      // Every call counts, as a "failure" of the limiter: there is nothing to succeed at.
      action: { kind: 'check', ok: false },
    });
    if (result.status !== 'locked') return;
    const retryAfter = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
    throw new MfaError(
      'too_many_attempts',
      `Too many passkey sign-ins were started from here. Try again in ${retryAfter} seconds.`,
      { retryAfter },
    );
  }

  router.post('/login/options', async (req, res) => {
    await parseBody(emptyBody, req.body);
    core.refuseLimited(req);
    // Before the ceremony touches the session: a refused call creates none.
    await admitOptions(req);
    const challenge = await beginLoginCeremony(core, config, req);
    // No allowCredentials: the authenticator offers its discoverable passkeys for this RP.
    res.json(await authenticationOptions({ config, challenge, allow: [], userVerification: 'required' }));
  });

  router.post('/login/verify', async (req, res) => {
    const { response } = await parseBody(assertionBody, req.body);
    core.refuseLimited(req);
    if (!req.session)
      throw new MfaError('unavailable', 'The session store is unavailable. Try again shortly.');
    const now = core.now();
    const lock = await store.failures(webauthnKeys.loginFailures(client(req)), now);
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
      return clientFailure(req, ownerId);
    }
    // Single use: parallel requests share this session, so the store's atomic take picks the one.
    if (!(await redeemLoginChallenge(core, req, pending))) return clientFailure(req, ownerId);
    // A passkey added in a recovery session (mailbox control only) would turn the recovery into a full
    // sign-in without the password: it must first be used as a second factor after a password login.
    if (await records.unconfirmed(ownerId, record.id)) {
      core.emit(req, ownerId, {
        type: 'passwordless_refused',
        factor: 'webauthn',
        credentialId: record.id,
        reason: 'registered_in_recovery',
      });
      return clientFailure(req, ownerId);
    }
    if (!(await recordUse(ctx, req, ownerId, record.id, assertion))) return clientFailure(req, ownerId);

    // The same hand-over as every sign-in: a new, clean session, onLogin, verified, saved.
    const verifiedAt = core.now();
    await completeSignIn(req, ownerId, { onLogin, appUser: core.appUser }, (r) =>
      verifiedState(r, ownerId, 'webauthn', verifiedAt),
    );
    core.emit(req, ownerId, { type: 'verified', factor: 'webauthn', passwordless: true });
    res.json(withReturnTo(req, { ok: true, userId: ownerId, verifiedAt }));
  });
}
