import type { Request } from 'express';
import type { MfaCore } from '../../core.js';
import { MfaError } from '../../errors.js';
import { keys } from '../../keys.js';
import { limitedAttempt, tooManyAttempts } from '../../limits.js';
import type { AttemptAction } from '../../stores/store.js';
import type { PasskeyRecords } from './passkey-records.js';
import { advanceCounter } from './signature-counter.js';
import type { VerifiedAssertion } from './webauthn-ceremonies.js';
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
): Promise<void> {
  const { core } = ctx;
  try {
    await limitedAttempt(core.config, core.emit, req, userId, 'webauthn', action);
  } catch (error) {
    throw error instanceof MfaError && error.code === 'invalid_code' ? invalidPasskey() : error;
  }
}

/** Counts a failed passkey attempt and answers it (401, or 429 once locked). */
export async function refuse(ctx: WebAuthnContext, req: Request, userId: string): Promise<never> {
  await passkeyAttempt(ctx, req, userId, { kind: 'check', ok: false });
  throw invalidPasskey();
}

/** 429 while the user's passkey factor is locked: checked before anything is verified. */
export async function checkLock(ctx: WebAuthnContext, userId: string): Promise<void> {
  const now = ctx.core.now();
  const { lockedUntil } = await ctx.core.store.failures(keys.failures(userId, 'webauthn'), now);
  if (lockedUntil !== null) throw tooManyAttempts(lockedUntil - now);
}

/**
 * A verified use resets the user's failures, like a right code does, unless a lock was reached
 * meanwhile: this request passed `checkLock` before those failures, so it stands, but the lock does too.
 */
export async function clearFailures(ctx: WebAuthnContext, userId: string): Promise<void> {
  const { core } = ctx;
  const { maxFailures, windowMs, lockoutMs } = core.config.limits;
  await core.store.attempt({
    failKey: keys.failures(userId, 'webauthn'),
    limit: maxFailures,
    windowMs,
    lockMs: lockoutMs,
    now: core.now(),
    action: { kind: 'check', ok: true },
  });
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
