import type { Request } from 'express';
import type { MfaCore } from '../../core.js';
import { deliver } from '../../delivery/deliver.js';
import type { EmailMessage, SmsMessage } from '../../delivery/sender.js';
import { MfaError } from '../../errors.js';
import { keys } from '../../keys.js';
import { limitedAttempt, tooManyAttempts } from '../../limits.js';
import type { AttemptAction } from '../../stores/store.js';
import { HOUR } from '../../time.js';
import { codeKeys } from './code-keys.js';
import { type CodeTarget, codeRecords, expiresAtOf } from './code-record.js';
import type { CodeMessageValues } from './messages.js';
import { generateCode, normalizeCode } from './one-time-code.js';

export type { CodeTarget } from './code-record.js';

const waitError = (retryAfterMs: number, sentence: string) => {
  const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new MfaError('too_many_attempts', `${sentence} Try again in ${retryAfter} seconds.`, { retryAfter });
};

/**
 * Email and SMS one-time codes: sending (with cooldown and hourly caps) and redeeming (single use,
 * inside the factor's attempt limit). A code is stored only as a keyed hash bound to the user,
 * channel, purpose, session, destination and expiry, so it is worthless anywhere else.
 */
export function createCodeService(core: MfaCore) {
  const { store, keyring, config } = core;
  const { codes } = config;
  const records = codeRecords(keyring);

  /** One more send on an "at most `limit` per window" counter; refused with 429 when spent. */
  async function spend(failKey: string, limit: number, windowMs: number, sentence: string): Promise<void> {
    const result = await store.attempt({
      failKey,
      limit,
      windowMs,
      lockMs: windowMs,
      now: core.now(),
      action: { kind: 'check', ok: false },
    });
    if (result.status === 'locked') throw waitError(result.retryAfterMs, sentence);
  }

  async function checkSendAllowed(t: CodeTarget): Promise<void> {
    const now = core.now();
    // A locked factor cannot be used, so a code for it would only be noise in the user's inbox.
    const lock = await store.failures(keys.failures(t.userId, t.channel), now);
    if (lock.lockedUntil !== null) throw tooManyAttempts(lock.lockedUntil - now);
    await spend(
      codeKeys.cooldown(t.userId, t.channel),
      1,
      codes.resendCooldownMs,
      'A code was sent a moment ago.',
    );
    await spend(
      codeKeys.sends(t.userId, t.channel),
      codes.maxSendsPerHour,
      HOUR,
      'Too many codes were sent to this account.',
    );
    const destination = keyring.hash(`destination:${t.channel}`, t.destination).split('.')[1]!.slice(0, 22);
    await spend(
      codeKeys.destinationSends(destination, t.channel, t.purpose),
      codes.maxSendsPerDestinationPerHour,
      HOUR,
      'Too many codes were sent to this address.',
    );
  }

  /**
   * Sends a new code, voiding the previous one. `compose` turns the code into the message; it runs
   * before anything is stored, so a broken template costs nothing. A failed delivery deletes the
   * code and answers 502.
   */
  async function send(
    req: Request,
    t: CodeTarget,
    compose: (values: CodeMessageValues) => EmailMessage | SmsMessage,
  ): Promise<{ expiresAt: number }> {
    await checkSendAllowed(t);
    const code = generateCode(codes.length);
    const expiresAt = core.now() + codes.ttlMs;
    const message = compose({
      issuer: config.issuer,
      code,
      expiresInMinutes: Math.ceil(codes.ttlMs / 60_000),
    });
    const key = codeKeys.code(t.userId, t.channel, t.purpose);
    const stored = records.create(t, req.sessionID, code, expiresAt);
    await store.set(key, stored, codes.ttlMs);
    await store.delete(codeKeys.tries(t.userId, t.channel, t.purpose));
    try {
      await deliver(
        core,
        req,
        t.userId,
        t.channel === 'email'
          ? { channel: 'email', purpose: t.purpose, message: message as EmailMessage }
          : { channel: 'sms', purpose: t.purpose, message: message as SmsMessage },
      );
    } catch {
      // Only ours: a code the provider may never have delivered must not stay redeemable.
      if ((await store.get(key)) === stored) await store.delete(key);
      throw new MfaError(
        'delivery_failed',
        t.channel === 'email'
          ? 'We could not send the email just now. Try again in a moment.'
          : 'We could not send the text message just now. Try again in a moment.',
      );
    }
    return { expiresAt };
  }

  /**
   * Redeems `input` or throws: `invalid_code` (wrong, expired, used, or for another session — one
   * answer for all) or `too_many_attempts`. The take is atomic, so of parallel redemptions one wins.
   */
  async function redeem(req: Request, t: CodeTarget, input: string): Promise<void> {
    const key = codeKeys.code(t.userId, t.channel, t.purpose);
    const stored = await store.get(key);
    const expiresAt = expiresAtOf(stored);
    const live = stored !== null && Number.isFinite(expiresAt) && core.now() < expiresAt;
    const code = normalizeCode(input, codes.length);
    const action: AttemptAction =
      live && code !== null
        ? { kind: 'take', key, values: records.candidates(t, req.sessionID, code, expiresAt) }
        : { kind: 'check', ok: false };
    try {
      await limitedAttempt(config, core.emit, req, t.userId, t.channel, action);
    } catch (error) {
      if (live && error instanceof MfaError && error.code === 'invalid_code') await countTry(t, key, stored);
      throw error;
    }
  }

  /** A code survives `maxTries` wrong tries, whatever the factor's own limit is. */
  async function countTry(t: CodeTarget, key: string, stored: string): Promise<void> {
    const result = await store.attempt({
      failKey: codeKeys.tries(t.userId, t.channel, t.purpose),
      limit: codes.maxTries,
      windowMs: codes.ttlMs,
      lockMs: codes.ttlMs,
      now: core.now(),
      action: { kind: 'check', ok: false },
    });
    const spent =
      result.status === 'locked' || (result.status === 'invalid' && result.failures >= codes.maxTries);
    if (spent && (await store.get(key)) === stored) await store.delete(key);
  }

  return { send, redeem };
}

export type CodeService = ReturnType<typeof createCodeService>;
