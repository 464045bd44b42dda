import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { MfaCore } from '../../core.js';
import { MfaError } from '../../errors.js';
import { type PendingChallenge, saveSession, stateFor } from '../../session.js';
import { MINUTE } from '../../time.js';
import { newChallenge } from './webauthn-ceremonies.js';
import { webauthnKeys } from './webauthn-keys.js';
import type { WebAuthnConfig } from './webauthn-options.js';

// Challenges are generated here, kept in the session (bound to purpose and user, with an expiry on
// the injected clock) and backed by a one-time marker in the store. The session alone cannot make
// them single use: parallel requests all load the same session, so each would see the challenge.
// Redeeming takes the marker atomically, and only one request can.

/** The marker's TTL only collects garbage: it outlives the challenge, whose expiry the session decides. */
const markerTtl = (config: WebAuthnConfig) => config.challengeTtlMs + MINUTE;

/** A pending challenge that is for `purpose` and not expired, else undefined. */
export function usable(
  pending: PendingChallenge | undefined,
  purpose: PendingChallenge['purpose'],
  now: number,
): PendingChallenge | undefined {
  return pending && pending.purpose === purpose && now < pending.expiresAt ? pending : undefined;
}

/**
 * Starts a register or verify ceremony for `userId`: a fresh challenge in `req.session.mfa` (keeping
 * the rest of this user's state) and its marker. Saved before the options are answered, so a session
 * store failure is a 503 here rather than a mysterious failure at verify.
 */
export async function beginUserCeremony(
  core: MfaCore,
  config: WebAuthnConfig,
  req: Request,
  userId: string,
  purpose: 'register' | 'verify',
  extra: { userHandle?: string } = {},
): Promise<string> {
  if (!req.session) throw new MfaError('unavailable', 'The session store is unavailable. Try again shortly.');
  const challenge = newChallenge();
  const state = stateFor(req, userId);
  const previous = state?.challenge;
  await core.store.set(webauthnKeys.challenge(userId, challenge), purpose, markerTtl(config));
  req.session.mfa = {
    ...(state ?? { userId }),
    challenge: { purpose, challenge, expiresAt: core.now() + config.challengeTtlMs, ...extra },
  };
  await saveSession(req);
  // One live challenge per session: the replaced one can no longer be redeemed, even by a request in flight.
  if (previous) await core.store.delete(webauthnKeys.challenge(userId, previous.challenge));
  return challenge;
}

/** This user's pending challenge for `purpose`, if still valid. */
export const userChallenge = (
  core: MfaCore,
  req: Request,
  userId: string,
  purpose: 'register' | 'verify',
): PendingChallenge | undefined => usable(stateFor(req, userId)?.challenge, purpose, core.now());

/** The marker a user-bound challenge is redeemed by, in the `attempt` that also counts failures. */
export const userChallengeMarker = (userId: string, pending: PendingChallenge) => ({
  kind: 'take' as const,
  key: webauthnKeys.challenge(userId, pending.challenge),
  values: [pending.purpose],
});

/**
 * The login marker's key for this session. One per session, so repeated (even parallel) calls of one
 * session overwrite it rather than pile up markers; hashed, because a session id is a bearer secret.
 */
const loginMarker = (req: Request) =>
  webauthnKeys.loginChallenge(createHash('sha256').update(req.sessionID).digest('base64url'));

/** Starts a passwordless sign-in: no user yet, so the challenge has its own session key. */
export async function beginLoginCeremony(
  core: MfaCore,
  config: WebAuthnConfig,
  req: Request,
): Promise<string> {
  if (!req.session) throw new MfaError('unavailable', 'The session store is unavailable. Try again shortly.');
  const challenge = newChallenge();
  // Overwrites the session's previous marker: the replaced challenge can no longer be redeemed.
  await core.store.set(loginMarker(req), challenge, markerTtl(config));
  req.session.mfaLoginChallenge = {
    purpose: 'login',
    challenge,
    expiresAt: core.now() + config.challengeTtlMs,
  };
  await saveSession(req);
  return challenge;
}

/**
 * Redeems a sign-in challenge: true for exactly one caller, however many race. Parallel options calls
 * of one session may leave the marker naming another challenge than the session: that fails closed.
 */
export async function redeemLoginChallenge(
  core: MfaCore,
  req: Request,
  pending: PendingChallenge,
): Promise<boolean> {
  return (await core.store.take(loginMarker(req))) === pending.challenge;
}
