import type { Request } from 'express';
import type { MfaCore } from '../../core.js';
import { MfaError } from '../../errors.js';
import { limitedAttempt, type OnInvalidAttempt } from '../../limits.js';
import type { PendingChallenge } from '../../session.js';
import type { AttemptAction } from '../../stores/store.js';
import { userChallengeMarker } from './challenges.js';
import type { PasskeyRecords } from './passkey-records.js';
import { advanceCounter, COUNTER_TTL_MS } from './signature-counter.js';
import type { VerifiedAssertion } from './webauthn-ceremonies.js';
import { webauthnKeys } from './webauthn-keys.js';
import type { WebAuthnConfig } from './webauthn-options.js';

/** What the passkey route files share. */
export interface WebAuthnContext {
  core: MfaCore;
  config: WebAuthnConfig;
  records: PasskeyRecords;
}

export const noPasskeys = () => new MfaError('not_enrolled', 'No passkey is registered for this account.');

/**
 * The one answer for a forged, replayed, expired, cross-purpose or foreign passkey response: the
 * `invalid_code` of every factor, worded for passkeys.
 */
export const invalidPasskey = () =>
  new MfaError('invalid_code', 'The passkey could not be verified. Try again.');

/**
 * One attempt at the user's `webauthn` limit (see `limitedAttempt`): resolves when `action` succeeds;
 * otherwise counts the failure and throws 401 `invalid_code`, or 429 once locked.
 */
export async function passkeyAttempt(
  ctx: WebAuthnContext,
  req: Request,
  userId: string,
  action: AttemptAction,
  onInvalid?: OnInvalidAttempt,
): Promise<void> {
  const { core } = ctx;
  try {
    await limitedAttempt(core.config, core.emit, req, userId, 'webauthn', action, onInvalid);
  } catch (error) {
    throw error instanceof MfaError && error.code === 'invalid_code' ? invalidPasskey() : error;
  }
}

/** Counts a failed passkey attempt and answers it (401, or 429 once locked). */
export async function refuse(ctx: WebAuthnContext, req: Request, userId: string): Promise<never> {
  await passkeyAttempt(ctx, req, userId, { kind: 'check', ok: false });
  throw invalidPasskey();
}

/**
 * Records a use once its challenge is redeemed: the signature counter advances atomically (see
 * `advanceCounter`), then the last use is noted. False when the use must be refused: a counter that
 * did not increase (reported as an event; the caller counts it as a failure) or a passkey removed
 * meanwhile. The record itself is not rewritten, so a concurrent rename stays.
 */
export async function recordUse(
  ctx: WebAuthnContext,
  req: Request,
  userId: string,
  credentialId: string,
  assertion: VerifiedAssertion,
): Promise<boolean> {
  const { core, records } = ctx;
  if (!(await records.ids(userId)).includes(credentialId)) return false;
  const received = assertion.newCounter;
  const verdict = await advanceCounter(core.store, userId, credentialId, received, core.now());
  if (!verdict.ok) {
    core.emit(req, userId, {
      type: 'counter_regression',
      factor: 'webauthn',
      credentialId,
      stored: verdict.stored,
      received,
    });
    return false;
  }
  await records.noteUse(userId, credentialId, { at: core.now(), backedUp: assertion.backedUp });
  return true;
}

/**
 * A second-factor use of a verified assertion: the rest of the checks and the signature counter, in the
 * fewest store round trips they allow. The passkey must be `listed` in the user's index (read by the
 * caller with the record: a record the index lacks is a leftover of an interrupted removal). Then one atomic attempt at the user's `webauthn` limit redeems the challenge and
 * checks the signature counter together (§7.2 step 21), so of parallel replays the first to run wins
 * (later ones cannot lock it out first), a count that did not increase is counted as a failure on
 * top of earlier ones (and reported; a replay is not), a good use resets the failures, and a locked
 * factor refuses even a good assertion. Resolves on success; throws 401 `invalid_code` or 429.
 */
export async function useAsSecondFactor(
  ctx: WebAuthnContext,
  req: Request,
  userId: string,
  pending: PendingChallenge,
  listed: boolean,
  credentialId: string,
  assertion: VerifiedAssertion,
): Promise<void> {
  const { core } = ctx;
  if (!listed) return refuse(ctx, req, userId);
  const counterKey = webauthnKeys.counter(userId, credentialId);
  const received = assertion.newCounter;
  const action: AttemptAction = {
    ...userChallengeMarker(userId, pending),
    kind: 'take-advance',
    counterKey,
    value: received,
    ttlMs: COUNTER_TTL_MS,
  };
  await passkeyAttempt(ctx, req, userId, action, async (result) => {
    if (!result.taken) return;
    const raw = await core.store.get(counterKey);
    core.emit(req, userId, {
      type: 'counter_regression',
      factor: 'webauthn',
      credentialId,
      stored: raw === null ? 0 : Number(raw),
      received,
    });
  });
}
