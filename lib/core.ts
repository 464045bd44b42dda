import type { Request } from 'express';
import { createKeyring, type Keyring } from './crypto.js';
import { deliver } from './delivery/deliver.js';
import type { EmailMessage } from './delivery/sender.js';
import { MfaError } from './errors.js';
import { createEmitter, type Emit, type MessagePurpose } from './events.js';
import { backupCodeContext, generateBackupCodes } from './factors/backup-codes/backup-codes.js';
import { emailAddressOf } from './factors/email-sms/email-address.js';
import { createMessageRenderer } from './factors/email-sms/render-message.js';
import type { FactorDefinition } from './factors/factor.js';
import { type FactorName, keys } from './keys.js';
import type { MfaConfig, MfaUser } from './options.js';
import { noticeFor, sendSecurityNotice } from './security-notices.js';
import { recoveryUserId, stateFor } from './session.js';
import type { FailureState } from './stores/store.js';
import { normalizeUser } from './user-id.js';

/** Who a request acts for. */
export interface Actor {
  userId: string;
  /** The app's user object; absent in a recovery session, where only the id is known. */
  user: MfaUser | undefined;
  /** A limited recovery session: may enrol factors, nothing else. */
  recovery: boolean;
}

const BACKUP_CODE_COUNT = 10;

/**
 * What spans factors: who the actor is, which factors a user has, the fresh-MFA rule for changing
 * factors, and the backup codes issued with a first factor. Factor folders use this, never each other.
 */
export function createCore(config: MfaConfig, definitions: readonly FactorDefinition[]) {
  const keyring: Keyring = createKeyring(config.secrets);
  const report = createEmitter(config.onEvent, config.now);
  const messages = createMessageRenderer(config);
  const { store } = config;

  /**
   * Reports the event, then emails the security notice it calls for (see `noticeFor`) to `user`, or
   * by default to the request's own user when that is `userId`; `null` means nobody is to be told.
   */
  const emit: Emit = (req, userId, event, user) => {
    report(req, userId, event);
    const notice = noticeFor(event);
    if (!notice) return;
    const to = user === undefined ? ownUser(req, userId) : (user ?? undefined);
    sendSecurityNotice(core, messages, req, userId, to, notice);
  };

  /** The app's user on this request if it is `userId`; a notice must never go to someone else. */
  function ownUser(req: Request, userId: string): MfaUser | undefined {
    try {
      const user = appUser(req);
      return user?.id === userId ? user : undefined;
    } catch {
      return undefined;
    }
  }

  /** The user the app has signed in, validated: a malformed `getUser` result is the app's bug, said plainly. */
  function appUser(req: Request): MfaUser | undefined {
    const user = config.getUser(req);
    if (user === undefined || user === null) return undefined;
    const normalized = typeof user === 'object' ? normalizeUser(user) : undefined;
    if (!normalized) {
      throw new Error('express-mfa: getUser(req) must return { id: string | number, ... } or undefined');
    }
    return normalized;
  }

  function actor(req: Request, { allowRecovery }: { allowRecovery: boolean }): Actor {
    if (!req.session)
      throw new MfaError('unavailable', 'The session store is unavailable. Try again shortly.');
    const recoveryId = recoveryUserId(req, config.now());
    if (recoveryId !== undefined) {
      if (!allowRecovery) {
        throw new MfaError('recovery_only', 'This recovery session can only set up new factors.');
      }
      return { userId: recoveryId, user: undefined, recovery: true };
    }
    const user = appUser(req);
    if (!user) throw new MfaError('unauthenticated', 'Sign in first.');
    return { userId: user.id, user, recovery: false };
  }

  /** The factors the user has, in the order of `definitions` (strongest first). */
  async function factors(userId: string, user?: MfaUser): Promise<FactorName[]> {
    const has = await Promise.all(definitions.map((d) => d.has(core, userId, user)));
    return definitions.filter((_, i) => has[i]).map((d) => d.name);
  }

  /** The guard's refusal for a user who has not verified recently enough. */
  async function staleMfaError(req: Request, userId: string, user?: MfaUser): Promise<MfaError> {
    const list = await factors(userId, user);
    if (list.length === 0) {
      return new MfaError('not_enrolled', 'Set up a second factor first.', { factors: [] });
    }
    const verifiedAt = stateFor(req, userId)?.verifiedAt;
    return verifiedAt === undefined
      ? new MfaError('mfa_required', 'Verify with a second factor to continue.', { factors: list })
      : new MfaError('mfa_expired', 'Your last verification is too old. Verify again to continue.', {
          factors: list,
        });
  }

  function isFresh(req: Request, userId: string, maxAgeMs: number): boolean {
    const verifiedAt = stateFor(req, userId)?.verifiedAt;
    return verifiedAt !== undefined && config.now() - verifiedAt <= maxAgeMs;
  }

  /**
   * Changing factors needs a fresh MFA once the user has any factor, so a stolen password alone
   * cannot add the thief's factor or strip the owner's. A recovery session was proven by email.
   */
  async function requireFresh(req: Request, who: Actor): Promise<void> {
    if (who.recovery || isFresh(req, who.userId, config.freshMaxAgeMs)) return;
    const list = await factors(who.userId, who.user);
    if (list.length === 0) return;
    throw await staleMfaError(req, who.userId, who.user);
  }

  async function replaceBackupCodes(userId: string): Promise<string[]> {
    const codes = generateBackupCodes(BACKUP_CODE_COUNT);
    const context = backupCodeContext(userId);
    await store.replaceSet(
      keys.backupCodes(userId),
      codes.map((code) => keyring.hash(context, code.replaceAll('-', ''))),
    );
    return codes;
  }

  /** Backup codes come with the first factor, so the user has a way back before they need one. */
  async function issueBackupCodesIfNone(userId: string): Promise<string[] | undefined> {
    if ((await store.countSet(keys.backupCodes(userId))) > 0) return undefined;
    return replaceBackupCodes(userId);
  }

  /**
   * Backup codes only back up enrolled factors: with the last one gone, they go too. (Email, the
   * implicit factor, is never enrolled and does not keep them.)
   */
  async function afterFactorRemoved(userId: string, user?: MfaUser): Promise<void> {
    if ((await enrolledFactors(userId, user)).length === 0) await store.delete(keys.backupCodes(userId));
  }

  /** The factors a user set up: what backup codes back up (not the codes themselves, not implicit email). */
  async function enrolledFactors(userId: string, user?: MfaUser): Promise<FactorName[]> {
    return (await factors(userId, user)).filter((f) => f !== 'backup_codes' && f !== 'email');
  }

  /**
   * Removes every factor's records (backup codes included) and clears the failure counters: what
   * recovery and an admin reset do. Returns the factors the user had (implicit email aside: the
   * address is the app's, only our codes for it are deleted).
   */
  async function removeAllFactors(userId: string, user?: MfaUser): Promise<FactorName[]> {
    const had = (await factors(userId, user)).filter((f) => f !== 'email');
    for (const definition of definitions) await definition.remove(core, userId);
    // The old factors' locks are moot, and a stale lock must not block enrolling the new one.
    await unlock(userId);
    return had;
  }

  /** Clears the failure counters (and so the locks) of `names`, default every factor. */
  async function unlock(userId: string, names: readonly FactorName[] = definitions.map((d) => d.name)) {
    await store.delete(...names.map((name) => keys.failures(userId, name)));
  }

  /** A factor's failure counter: failures in the current window and when its lock ends (or null). */
  const lockState = (userId: string, name: FactorName): Promise<FailureState> =>
    store.failures(keys.failures(userId, name), config.now());

  /** Hands an email to the sender (bounded by `codes.sendTimeoutMs`), reported as events. Rejects on failure. */
  const sendEmail = (req: Request, userId: string, purpose: MessagePurpose, message: EmailMessage) =>
    deliver(core, req, userId, { channel: 'email', purpose, message });

  const core = {
    config,
    store,
    keyring,
    emit,
    now: config.now,
    appUser,
    actor,
    factors,
    isFresh,
    staleMfaError,
    requireFresh,
    replaceBackupCodes,
    issueBackupCodesIfNone,
    afterFactorRemoved,
    enrolledFactors,
    removeAllFactors,
    unlock,
    lockState,
    /** Renders the emails and SMS in the reader's language (the `messages` option). */
    messages,
    sendEmail,
    /** The user's address on file if it can receive email, else undefined. */
    emailAddress: emailAddressOf,
    definitions,
  };
  return core;
}

export type MfaCore = ReturnType<typeof createCore>;
