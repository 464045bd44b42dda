import type { Request, Response } from 'express';
import { createKeyring, type Keyring } from './crypto.js';
import { deliver } from './delivery/deliver.js';
import type { EmailMessage } from './delivery/sender.js';
import { MfaError } from './errors.js';
import { createEmitter, type Emit, type MessagePurpose } from './events.js';
import { backupCodeContext, generateBackupCodes } from './factors/backup-codes/backup-codes.js';
import { emailAddressOf } from './factors/email-sms/email-address.js';
import { createMessageRenderer } from './factors/email-sms/render-message.js';
import type { FactorDefinition } from './factors/factor.js';
import { phishingResistant } from './guard/factor-strength.js';
import { type FactorName, keys } from './keys.js';
import type { MfaConfig, MfaUser } from './options.js';
import { noticeFor, sendSecurityNotice } from './security-notices.js';
import {
  elevateSession,
  recoveryUserId,
  saveSession,
  signInStage,
  stateFor,
  verifiedState,
} from './session.js';
import { completeSignIn } from './sign-in/complete-sign-in.js';
import type { FailureState } from './stores/store.js';
import { setDeviceCookie } from './trusted-devices/device-cookie.js';
import { trustedDevices } from './trusted-devices/trusted-devices.js';
import { normalizeUser } from './user-id.js';

/** Who a request acts for. */
export interface Actor {
  userId: string;
  /** The app's user object; absent in a recovery session, where only the id is known. */
  user: MfaUser | undefined;
  /** A limited recovery session: may enrol factors, nothing else. */
  recovery: boolean;
  /**
   * An unfinished sign-in (see `mfa.signIn`): `pending` waits for a second factor, `enrol` for a
   * first one. The user is not signed in; a verification (or confirmation) completes the sign-in.
   */
  stage?: 'pending' | 'enrol';
}

/** What a verify or confirm route asks of `finishVerification`, from its body. */
export interface VerificationRequest {
  /** Remember this device for later sign-ins (only a sign-in verification does, with the option on). */
  rememberDevice?: boolean;
}

/** What a verification did, for the route's answer. */
export interface VerificationOutcome {
  /** When the session was verified (absent in a recovery session, which is never elevated). */
  verifiedAt?: number;
  /** The verification completed a sign-in: the app's `onLogin` ran. */
  signedIn?: true;
  /** The device remembered for later sign-ins. */
  trustedDevice?: { id: string; expiresAt: number };
}

const BACKUP_CODE_COUNT = 10;

const pendingError = () => new MfaError('mfa_pending', 'Finish signing in with your second factor first.');
const enrolError = () => new MfaError('enrolment_required', 'Set up a second factor to finish signing in.');

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

  /**
   * Who the request acts for. `allowRecovery`: an enrolment route, open to limited sessions that may
   * only enrol (recovery, a sign-in that must set up a first factor). `allowPending`: a route that
   * serves a sign-in waiting for its second factor (status, verify, send). `allowEnrol` (default
   * `allowRecovery`): a route that serves a sign-in waiting for a first factor.
   */
  function actor(
    req: Request,
    {
      allowRecovery,
      allowPending = false,
      allowEnrol = allowRecovery,
    }: { allowRecovery: boolean; allowPending?: boolean; allowEnrol?: boolean },
  ): Actor {
    if (!req.session)
      throw new MfaError('unavailable', 'The session store is unavailable. Try again shortly.');
    const now = config.now();
    const recoveryId = recoveryUserId(req, now);
    if (recoveryId !== undefined) {
      if (!allowRecovery) {
        throw new MfaError('recovery_only', 'This recovery session can only set up new factors.');
      }
      return { userId: recoveryId, user: undefined, recovery: true };
    }
    const stage = signInStage(req, now);
    if (stage?.stage === 'pending') {
      if (!allowPending) throw pendingError();
      return { userId: stage.user.id, user: stage.user, recovery: false, stage: 'pending' };
    }
    if (stage?.stage === 'enrol') {
      if (!allowEnrol) throw enrolError();
      return { userId: stage.user.id, user: stage.user, recovery: false, stage: 'enrol' };
    }
    const user = appUser(req);
    if (!user) throw new MfaError('unauthenticated', 'Sign in first.');
    return { userId: user.id, user, recovery: false };
  }

  /**
   * For routes that act for nobody in particular (passwordless sign-in): a limited session (recovery,
   * an unfinished sign-in) may not be traded for something else.
   */
  function refuseLimited(req: Request): void {
    const now = config.now();
    if (recoveryUserId(req, now) !== undefined) {
      throw new MfaError('recovery_only', 'This recovery session can only set up new factors.');
    }
    const stage = signInStage(req, now);
    if (stage?.stage === 'pending') throw pendingError();
    if (stage?.stage === 'enrol') throw enrolError();
  }

  /** The factors that can complete a sign-in: the enrolled ones, and email codes only if `signIn.emailCodes`. */
  async function signInFactors(userId: string, user?: MfaUser): Promise<FactorName[]> {
    const list = await factors(userId, user);
    return config.signIn.emailCodes ? list : list.filter((f) => f !== 'email');
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
    // The guard's shape: which factors would do, and which of them a phishing site cannot relay.
    const extra = { factors: list, phishingResistant: phishingResistant(list) };
    return verifiedAt === undefined
      ? new MfaError('mfa_required', 'Verify with a second factor to continue.', extra)
      : new MfaError('mfa_expired', 'Your last verification is too old. Verify again to continue.', extra);
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

  const devices = config.trustedDevices ? trustedDevices(store, keyring, config.trustedDevices) : undefined;

  /**
   * What every successful verification or confirmation ends with. On an unfinished sign-in it completes
   * the sign-in (a new session, `onLogin`, verified), remembering the device when asked; otherwise it
   * elevates the session (a recovery session stays limited). Saved before the route answers.
   * `alongside` is the route's own store work after its check passed (a count, a use's note), already
   * under way: it travels with the session's save, one round trip for both, and if it fails the
   * verification fails with it (503, no new session), as when the save fails.
   */
  function finishVerification(
    req: Request,
    res: Response,
    who: Actor,
    method: FactorName,
    asked: VerificationRequest = {},
    alongside?: Promise<unknown>,
  ): Promise<VerificationOutcome> {
    // Handled from now on: should finish fail before awaiting it, its rejection is not left unhandled.
    alongside?.catch(() => {});
    return finish(req, res, who, method, asked, false, alongside);
  }

  async function finish(
    req: Request,
    res: Response,
    who: Actor,
    method: FactorName,
    asked: VerificationRequest,
    enrolled: boolean,
    alongside?: Promise<unknown>,
  ): Promise<VerificationOutcome> {
    if (who.recovery) {
      await alongside;
      return {};
    }
    const now = config.now();
    if (!who.stage) {
      await elevateSession(req, who.userId, method, now, alongside);
      return { verifiedAt: now };
    }
    if (who.stage === 'enrol' && !enrolled) {
      // Waited for before the state changes: if it fails, the session stays as it was.
      await alongside;
      // A setup-only sign-in proving the implicit email factor: fresh enough to add a first factor
      // (a stolen password alone must not enrol the thief's), still not signed in.
      const state = req.session.mfa;
      req.session.mfa = { ...verifiedState(req, who.userId, method, now, state), enrol: state?.enrol };
      await saveSession(req);
      return { verifiedAt: now };
    }
    const onLogin = config.onLogin;
    if (!onLogin) throw new Error('express-mfa: a sign-in can only complete with the onLogin option');
    const remembered =
      devices && asked.rememberDevice === true && who.stage === 'pending'
        ? await devices.remember(who.userId, req.get('user-agent'), now)
        : undefined;
    try {
      await completeSignIn(
        req,
        who.userId,
        { onLogin, appUser },
        (r) => verifiedState(r, who.userId, method, now),
        alongside,
      );
    } catch (error) {
      if (remembered) await devices?.revoke(who.userId, remembered.device.id, now).catch(() => {});
      throw error;
    }
    const outcome: VerificationOutcome = { verifiedAt: now, signedIn: true };
    if (remembered && config.trustedDevices) {
      const { device, token } = remembered;
      setDeviceCookie(req, res, config.trustedDevices.cookieName, token, device.expiresAt - now);
      report(req, who.userId, { type: 'trusted_device_added', deviceId: device.id, name: device.name });
      outcome.trustedDevice = { id: device.id, expiresAt: device.expiresAt };
    }
    report(req, who.userId, {
      type: 'sign_in_completed',
      factor: method,
      ...(who.stage === 'enrol' ? { enrolled: true as const } : {}),
    });
    return outcome;
  }

  /**
   * `finishVerification` for a confirmed enrolment: confirming proves the factor, so it elevates like
   * a verification (or completes a sign-in that waited for a first factor). If that fails, backup
   * codes just issued with the factor are dropped: codes the user never saw are no backup, and the
   * account page will offer new ones. Answers `{ signedIn: true }` when it completed a sign-in.
   */
  async function finishEnrolment(
    req: Request,
    res: Response,
    who: Actor,
    method: FactorName,
    backupCodes: string[] | undefined,
  ): Promise<{ signedIn?: true }> {
    try {
      const outcome = await finish(req, res, who, method, {}, true);
      return outcome.signedIn ? { signedIn: true } : {};
    } catch (error) {
      if (backupCodes) await store.delete(keys.backupCodes(who.userId)).catch(() => {});
      throw error;
    }
  }

  /**
   * Reports a change of the user's factors (added, removed, backup codes replaced, reset, recovered),
   * then revokes their trusted devices: a device remembered under the old factors must not skip the
   * new ones. Awaited by the route, so the answer comes only once the devices are gone.
   */
  async function factorsChanged(
    req: Request,
    userId: string,
    event: Parameters<Emit>[2],
    user?: MfaUser | null,
  ) {
    emit(req, userId, event, user);
    if (devices) {
      const revoked = await devices.revokeAll(userId, config.now());
      if (revoked.length > 0) {
        report(req, userId, {
          type: 'trusted_device_revoked',
          deviceIds: revoked,
          reason: 'factors_changed',
        });
      }
    }
  }

  const core = {
    config,
    store,
    keyring,
    emit,
    now: config.now,
    appUser,
    actor,
    refuseLimited,
    signInFactors,
    finishVerification,
    finishEnrolment,
    factorsChanged,
    /** Trusted devices; undefined when the option is off. */
    devices,
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
