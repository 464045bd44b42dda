import type { Request } from 'express';
import { createKeyring, type Keyring } from './crypto.js';
import { MfaError } from './errors.js';
import { createEmitter, type Emit } from './events.js';
import { backupCodeContext, generateBackupCodes } from './factors/backup-codes/backup-codes.js';
import type { FactorDefinition } from './factors/factor.js';
import { type FactorName, keys } from './keys.js';
import type { MfaConfig, MfaUser } from './options.js';
import { recoveryUserId, stateFor } from './session.js';

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
  const emit: Emit = createEmitter(config.onEvent, config.now);
  const { store } = config;

  /** The user the app has signed in, validated: a malformed `getUser` result is the app's bug, said plainly. */
  function appUser(req: Request): MfaUser | undefined {
    const user = config.getUser(req);
    if (user === undefined || user === null) return undefined;
    if (typeof user !== 'object' || typeof user.id !== 'string' || user.id === '') {
      throw new Error('express-mfa: getUser(req) must return { id: string, ... } or undefined');
    }
    return user;
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
    definitions,
  };
  return core;
}

export type MfaCore = ReturnType<typeof createCore>;
