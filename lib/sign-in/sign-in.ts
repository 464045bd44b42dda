import type { Request, Response } from 'express';
import type { MfaCore } from '../core.js';
import { MfaError } from '../errors.js';
import type { FactorName } from '../keys.js';
import type { AppUser, MfaUser } from '../options.js';
import { regenerateSession, saveSession } from '../session.js';
import { StoreUnavailableError } from '../stores/store.js';
import { readCookie, setDeviceCookie } from '../trusted-devices/device-cookie.js';
import { normalizeUser } from '../user-id.js';
import { completeSignIn } from './complete-sign-in.js';
import { enrolmentDecision } from './enrolment-decision.js';

/** What `mfa.signIn` did; the app answers the client accordingly. */
export type SignInResult =
  /**
   * `onLogin` ran: the user is signed in. `trustedDevice`: a remembered device skipped the second
   * factor. `enrolBy` / `graceSignInsLeft`: the user has no factor yet and must set one up by then.
   */
  | { status: 'signed_in'; trustedDevice?: true; enrolBy?: number; graceSignInsLeft?: number }
  /** The session waits for a second factor: send the user to the verify page, offering `factors`. */
  | { status: 'mfa_required'; factors: FactorName[] }
  /** A setup-only session: send the user to set up a first factor, which completes the sign-in. */
  | { status: 'enrol_required' };

const unavailable = () => new MfaError('unavailable', 'The session store is unavailable. Try again shortly.');

/** The parts of the app's user a pending session keeps (the session is plaintext in its store). */
function checkedUser(user: unknown): MfaUser {
  const u = typeof user === 'object' && user !== null ? normalizeUser(user) : undefined;
  if (!u) {
    throw new TypeError(
      'express-mfa: mfa.signIn(req, res, user) needs the user as { id: string | number, email?, name? }',
    );
  }
  const kept: MfaUser = { id: u.id };
  if (typeof u.email === 'string') kept.email = u.email;
  if (typeof u.name === 'string') kept.name = u.name;
  if (typeof u.locale === 'string') kept.locale = u.locale;
  return kept;
}

/**
 * `mfa.signIn(req, res, user)`: call it from the app's password route once the password is right.
 * The session is regenerated first (an id fixed by an attacker never becomes a signed-in or pending
 * session); then the user is signed in through `onLogin` when no second factor is needed, or the
 * session is left pending (or setup-only) and signed in by the verification that completes it.
 */
export function createSignIn(core: MfaCore) {
  const { config } = core;
  return async function signIn(req: Request, res: Response, input: AppUser): Promise<SignInResult> {
    try {
      return await run(req, res, input);
    } catch (error) {
      // An error the app's handler can answer as it stands (Express uses `status`): 503, not a 500.
      if (error instanceof StoreUnavailableError) {
        throw new MfaError('unavailable', 'The MFA store is unavailable. Try again shortly.');
      }
      throw error;
    }
  };

  async function run(req: Request, res: Response, input: AppUser): Promise<SignInResult> {
    const onLogin = config.onLogin;
    if (!onLogin) {
      throw new TypeError(
        'express-mfa: mfa.signIn needs the onLogin option, e.g. onLogin: (req, userId) => { req.session.user = users.get(userId) }',
      );
    }
    const user = checkedUser(input);
    if (!req.session) throw unavailable();
    const handOver = { onLogin, appUser: core.appUser };
    const factors = await core.signInFactors(user.id, user);
    const deviceToken = config.trustedDevices ? readCookie(req, config.trustedDevices.cookieName) : undefined;
    await regenerateSession(req);
    const now = core.now();

    if (factors.length === 0) {
      const decision = await enrolmentDecision(core, user.id, now);
      if (decision.required) {
        req.session.mfa = { userId: user.id, enrol: { user, until: now + config.signIn.pendingTtlMs } };
        await saveSession(req);
        core.emit(req, user.id, { type: 'sign_in', outcome: 'enrol_required' });
        return { status: 'enrol_required' };
      }
      await completeSignIn(req, user.id, handOver, () => undefined);
      const { required: _, ...notice } = decision;
      core.emit(req, user.id, { type: 'sign_in', outcome: 'signed_in', ...notice });
      return { status: 'signed_in', ...notice };
    }

    // A remembered device skips the second factor here, and only here: the session is not verified,
    // so step-up still asks. Its token is used up; the next one goes into the cookie.
    const redeemed =
      deviceToken && core.devices ? await core.devices.redeem(user.id, deviceToken, now) : undefined;
    if (redeemed && config.trustedDevices) {
      await completeSignIn(req, user.id, handOver, () => undefined);
      const { cookieName } = config.trustedDevices;
      setDeviceCookie(req, res, cookieName, redeemed.token, redeemed.device.expiresAt - now);
      core.emit(req, user.id, { type: 'sign_in', outcome: 'signed_in', trustedDevice: true });
      return { status: 'signed_in', trustedDevice: true };
    }

    req.session.mfa = { userId: user.id, pending: { user, until: now + config.signIn.pendingTtlMs } };
    await saveSession(req);
    core.emit(req, user.id, { type: 'sign_in', outcome: 'mfa_required' });
    return { status: 'mfa_required', factors };
  }
}
