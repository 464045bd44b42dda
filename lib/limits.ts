import type { Request } from 'express';
import { MfaError } from './errors.js';
import type { Emit } from './events.js';
import { type FactorName, keys } from './keys.js';
import type { MfaConfig } from './options.js';
import type { AttemptAction, AttemptResult } from './stores/store.js';

/** Wrong, expired and used codes all get this one answer, so none of them tells an attacker more. */
export const invalidCode = () =>
  new MfaError('invalid_code', 'That code is not valid. Check it and try again.');

export function tooManyAttempts(retryAfterMs: number): MfaError {
  const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new MfaError('too_many_attempts', `Too many failed attempts. Try again in ${retryAfter} seconds.`, {
    retryAfter,
  });
}

/** Sees a refused attempt's result before `limitedAttempt` reports and throws it. */
export type OnInvalidAttempt = (result: Extract<AttemptResult, { status: 'invalid' }>) => Promise<void>;

/**
 * One attempt at a factor, counted per user and factor in the same atomic store operation that
 * redeems the code: parallel guesses cannot exceed the limit, and past it even a right code is refused.
 * Resolves on success; throws `invalid_code` or `too_many_attempts` otherwise. `onInvalid` sees a
 * failure first, so an event it emits comes before `failed`.
 */
export async function limitedAttempt(
  config: MfaConfig,
  emit: Emit,
  req: Request,
  userId: string,
  factor: FactorName,
  action: AttemptAction,
  onInvalid?: OnInvalidAttempt,
): Promise<void> {
  const { maxFailures, windowMs, lockoutMs } = config.limits;
  const now = config.now();
  const result = await config.store.attempt({
    failKey: keys.failures(userId, factor),
    limit: maxFailures,
    windowMs,
    lockMs: lockoutMs,
    now,
    action,
  });
  if (result.status === 'ok') return;
  if (result.status === 'locked') throw tooManyAttempts(result.retryAfterMs);
  await onInvalid?.(result);
  emit(req, userId, { type: 'failed', factor, failures: result.failures });
  if (result.failures >= maxFailures) emit(req, userId, { type: 'locked', factor, until: now + lockoutMs });
  throw invalidCode();
}
