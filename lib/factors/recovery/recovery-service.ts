import type { Request } from 'express';
import type { MfaCore } from '../../core.js';
import { MfaError } from '../../errors.js';
import type { FactorName } from '../../keys.js';
import { invalidCode, tooManyAttempts } from '../../limits.js';
import type { MfaUser } from '../../options.js';
import { regenerateSession, saveSession } from '../../session.js';
import type { AttemptAction } from '../../stores/store.js';
import { HOUR } from '../../time.js';
import { normalizeUser } from '../../user-id.js';
import { generateRecoveryCode, normalizeRecoveryCode } from './recovery-code.js';
import { recoveryKeys } from './recovery-keys.js';
import type { RecoveryConfig } from './recovery-options.js';

const b64 = (value: string) => Buffer.from(value, 'utf8').toString('base64url');

/** What `/recovery/start` did for an existing account (events only: the client never learns it). */
export type RequestOutcome = 'sent' | 'rate_limited' | 'locked' | 'no_email' | 'failed';

interface StoredCode {
  expiresAt: number;
  userId: string;
}

/**
 * Account recovery when every factor is lost: an emailed code (80 bits, single use, stored only as a
 * keyed hash) opens a short, limited session that may only enrol new factors. Everything about an
 * address is keyed by the address typed, so answers and limits are the same whether it has an account.
 */
export function createRecoveryService(core: MfaCore, recovery: RecoveryConfig) {
  const { store, keyring, config } = core;

  /** The address's keyed hash as it appears in keys: 132 bits, so two addresses never share one. */
  const emailTag = (email: string) => keyring.hash('recovery-email', email).split('.')[1]!.slice(0, 22);
  /** A code's hash is bound to the account, the address it was requested for, and its expiry. */
  const context = (userId: string, email: string, expiresAt: number) =>
    `recovery:${userId}:${email}:${expiresAt}`;
  const encode = (code: StoredCode, hash: string) => `${code.expiresAt}.${b64(code.userId)}.${hash}`;

  function parse(raw: string | null): StoredCode | undefined {
    if (raw === null) return undefined;
    const [expiresAt, userId] = raw.split('.');
    const at = Number(expiresAt);
    if (!Number.isFinite(at) || userId === undefined) return undefined;
    return { expiresAt: at, userId: Buffer.from(userId, 'base64url').toString('utf8') };
  }

  /** One more on an "at most `limit` an hour" counter; false when it is spent. */
  async function spend(
    failKey: string,
    limit: number,
  ): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
    const result = await store.attempt({
      failKey,
      limit,
      windowMs: HOUR,
      lockMs: HOUR,
      now: core.now(),
      action: { kind: 'check', ok: false },
    });
    return result.status === 'locked' ? { ok: false, retryAfterMs: result.retryAfterMs } : { ok: true };
  }

  /** Requests per client: counted for every address alike, so the 429 says nothing about accounts. */
  async function admitClient(req: Request): Promise<void> {
    const spent = await spend(
      recoveryKeys.clientRequests(req.ip ?? 'unknown'),
      recovery.maxRequestsPerClientPerHour,
    );
    if (spent.ok) return;
    const retryAfter = Math.max(1, Math.ceil(spent.retryAfterMs / 1000));
    throw new MfaError(
      'too_many_attempts',
      `Too many recovery requests came from here. Try again in ${retryAfter} seconds.`,
      { retryAfter },
    );
  }

  async function findUser(email: string): Promise<MfaUser | undefined> {
    const user = await recovery.findUserByEmail(email);
    if (user === undefined || user === null) return undefined;
    const normalized = typeof user === 'object' ? normalizeUser(user) : undefined;
    if (!normalized) {
      throw new Error(
        'express-mfa: findUserByEmail(email) must return { id: string | number, email, ... } or undefined',
      );
    }
    return normalized;
  }

  /**
   * The work behind `/recovery/start`, run after the answer is sent: whatever happens here cannot
   * show in the answer or its timing. Never rejects; the account's owner hears of it as an event.
   */
  async function request(req: Request, email: string): Promise<void> {
    let userId: string | undefined;
    try {
      const user = await findUser(email);
      if (!user) return;
      userId = user.id;
      const outcome = await sendCode(req, email, user);
      core.emit(req, user.id, { type: 'recovery_requested', outcome });
    } catch (error) {
      if (userId !== undefined) core.emit(req, userId, { type: 'recovery_requested', outcome: 'failed' });
      // Only the stack: store clients attach command arguments to their errors.
      core.config.logger.error(
        'express-mfa: a recovery request failed',
        error instanceof Error ? (error.stack ?? error.message) : String(error),
      );
    }
  }

  async function sendCode(req: Request, email: string, user: MfaUser): Promise<RequestOutcome> {
    // The code goes to the address on file, never to the one typed.
    const address = core.emailAddress(user);
    if (!address) return 'no_email';
    const tag = emailTag(email);
    const now = core.now();
    // A new code does not reset the count (security rule 5), so while locked it would only be noise.
    if ((await store.failures(recoveryKeys.failures(tag), now)).lockedUntil !== null) return 'locked';
    if (!(await spend(recoveryKeys.accountRequests(user.id), recovery.maxRequestsPerAccountPerHour)).ok) {
      return 'rate_limited';
    }
    const code = generateRecoveryCode();
    const target: StoredCode = { expiresAt: now + recovery.codeTtlMs, userId: user.id };
    // Rendered before anything is stored, so a broken template costs nothing.
    const content = core.messages.recoveryEmail(
      { issuer: config.issuer, code, expiresInMinutes: Math.ceil(recovery.codeTtlMs / 60_000) },
      req,
      user,
    );
    const key = recoveryKeys.code(tag);
    const stored = encode(
      target,
      keyring.hash(context(user.id, email, target.expiresAt), normalizeRecoveryCode(code)!),
    );
    // One key per address: the new code voids the previous one.
    await store.set(key, stored, recovery.codeTtlMs);
    try {
      await core.sendEmail(req, user.id, 'recovery', { to: address, ...content });
    } catch {
      // A code the provider may never have delivered must not stay redeemable (only ours, though).
      if ((await store.get(key)) === stored) await store.delete(key);
      return 'failed';
    }
    return 'sent';
  }

  /**
   * Redeems a recovery code for the address typed, or throws `invalid_code` / `too_many_attempts`.
   * Failures count per address whether or not it has an account or a code; the take is atomic with
   * the count, so of parallel redemptions exactly one wins.
   */
  async function redeem(req: Request, email: string, input: string): Promise<MfaUser> {
    const tag = emailTag(email);
    const key = recoveryKeys.code(tag);
    const now = core.now();
    const stored = parse(await store.get(key));
    const code = normalizeRecoveryCode(input);
    const live = stored !== undefined && now < stored.expiresAt && code !== null;
    // Without a live code, do the same work against values that cannot match: anyone can give an
    // address a live code through /start, so a faster "no code" answer would tell which accounts exist.
    const action: AttemptAction = {
      kind: 'take',
      key,
      values: live
        ? keyring
            .hashes(context(stored.userId, email, stored.expiresAt), code)
            .map((hash) => encode(stored, hash))
        : keyring.hashes(context('', email, now), code ?? input).map((hash) => `never:${hash}`),
    };
    const { maxFailures, windowMs, lockoutMs } = config.limits;
    const result = await store.attempt({
      failKey: recoveryKeys.failures(tag),
      limit: maxFailures,
      windowMs,
      lockMs: lockoutMs,
      now,
      action,
    });
    if (result.status === 'locked') throw tooManyAttempts(result.retryAfterMs);
    if (result.status === 'invalid' || stored === undefined) {
      // The owner hears of guesses at their code; an address without a code has nobody to tell.
      if (stored !== undefined && result.status === 'invalid') {
        const { failures } = result;
        // After the answer: a slow audit listener must not make a known account's failures slower.
        setImmediate(() => {
          core.emit(req, stored.userId, { type: 'recovery_failed', failures });
          if (failures >= maxFailures) {
            core.emit(req, stored.userId, { type: 'recovery_locked', until: now + lockoutMs });
          }
        });
      }
      throw invalidCode();
    }
    // The code was this account's; the address must still be this account's too.
    const user = await findUser(email);
    if (!user || user.id !== stored.userId) throw invalidCode();
    return user;
  }

  /**
   * What a redeemed code grants: the user's other sessions end (when the app says how), their old
   * factors go, and this request gets a clean, regenerated session limited to enrolling new factors.
   * Nothing of the old session is kept and `onLogin` is not called: the code proves the mailbox, not
   * the password, so it must not sign anyone in.
   */
  async function grant(req: Request, user: MfaUser): Promise<{ until: number; removed: FactorName[] }> {
    if (recovery.endSessions) {
      // First: if the app cannot end them now, nothing else has changed yet.
      try {
        await recovery.endSessions(user.id, req);
      } catch (error) {
        core.config.logger.error(
          'express-mfa: endSessions failed during recovery',
          error instanceof Error ? (error.stack ?? error.message) : String(error),
        );
        throw new MfaError(
          'unavailable',
          'Your other sessions could not be signed out just now. Ask for a new recovery code and try again.',
        );
      }
    }
    const removed = await core.removeAllFactors(user.id, user);
    // Audited (and the owner notified) as soon as the factors are gone, even if the session fails next.
    await core.factorsChanged(req, user.id, { type: 'recovery_completed', removed }, user);
    await regenerateSession(req);
    const until = core.now() + recovery.sessionTtlMs;
    req.session.mfa = { userId: user.id, recovery: { until } };
    await saveSession(req);
    return { until, removed };
  }

  return { admitClient, request, redeem, grant };
}
