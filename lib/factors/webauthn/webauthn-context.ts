import type { Request } from 'express';
import type { MfaCore } from '../../core.js';
import { MfaError } from '../../errors.js';
import { limitedAttempt } from '../../limits.js';
import type { AttemptAction } from '../../stores/store.js';
import type { PasskeyRecords } from './passkey-records.js';
import { counterRegressed, type VerifiedAssertion } from './webauthn-ceremonies.js';
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

/**
 * Records a use once its challenge is redeemed: the signature counter is compared with the freshest
 * record (not the one read before the redemption, which a parallel use may have moved on), then saved
 * with the last-used time. False when the use must be refused: a regressed counter (reported as an
 * event) or a passkey removed meanwhile.
 */
export async function recordUse(
  ctx: WebAuthnContext,
  req: Request,
  userId: string,
  credentialId: string,
  assertion: VerifiedAssertion,
): Promise<boolean> {
  const { core, records } = ctx;
  const fresh = await records.get(userId, credentialId);
  if (!fresh) return false;
  if (counterRegressed(fresh.counter, assertion.newCounter)) {
    core.emit(req, userId, {
      type: 'counter_regression',
      factor: 'webauthn',
      credentialId,
      stored: fresh.counter,
      received: assertion.newCounter,
    });
    return false;
  }
  await records.save(userId, {
    ...fresh,
    counter: assertion.newCounter,
    // The backup state may change over a passkey's life (WebAuthn §6.1.3): keep the latest.
    backedUp: assertion.backedUp,
    lastUsedAt: core.now(),
  });
  return true;
}
