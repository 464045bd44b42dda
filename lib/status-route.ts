import type { RequestHandler } from 'express';
import type { MfaCore } from './core.js';
import { MfaError } from './errors.js';
import { passkeyRecords, summarize } from './factors/webauthn/passkey-records.js';
import { phishingResistant } from './guard/factor-strength.js';
import { keys } from './keys.js';
import { pendingStatus } from './pending-status.js';
import { signInStage, stateFor } from './session.js';
import { deviceToken } from './trusted-devices/trusted-device-routes.js';

/** Under this many backup codes left, the status says `low: true` so the page can suggest new ones. */
export const LOW_BACKUP_CODES = 3;

/** `?maxAgeMs=`: whole milliseconds, as `requireMfa(maxAgeMs)` takes them. */
function maxAgeOf(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    throw new MfaError(
      'invalid_request',
      "`maxAgeMs` must be whole milliseconds, like ?maxAgeMs=300000 (the guard's maxAge).",
    );
  }
  return Number(value);
}

/**
 * `GET /`: everything a client needs to draw an account page: factors, passkeys, backup codes left,
 * locks, whether the session counts as verified for a given maxAge (and until when), recovery, and
 * the setups and codes this session has in progress.
 */
export function statusRoute(core: MfaCore): RequestHandler {
  return async (req, res) => {
    const maxAgeMs = maxAgeOf(req.query.maxAgeMs, core.config.freshMaxAgeMs);
    const who = core.actor(req, { allowRecovery: true, allowPending: true });
    const token = deviceToken(core, req);
    const [factors, remaining, passkeys, lockStates, devices, currentDevice, pending] = await Promise.all([
      // An unfinished sign-in lists what can complete it.
      who.stage === 'pending' ? core.signInFactors(who.userId, who.user) : core.factors(who.userId, who.user),
      core.store.countSet(keys.backupCodes(who.userId)),
      // Listed only when passkeys are on, so its presence also tells a page to offer them.
      core.config.webauthn ? passkeyRecords(core.store).list(who.userId) : undefined,
      Promise.all(core.definitions.map((d) => core.lockState(who.userId, d.name))),
      // Only a signed-in user sees (and may revoke) their remembered devices.
      core.devices && !who.stage && !who.recovery ? core.devices.list(who.userId, core.now()) : undefined,
      core.devices && token && !who.stage ? core.devices.idOf(who.userId, token) : undefined,
      // What this session started and can still finish, so a page that reloads resumes it.
      pendingStatus(core, req, who),
    ]);
    // A lock on every factor the user has, and on any other that is locked (e.g. a setup that failed too often).
    const locks: Record<string, { locked: boolean; until: number | null; failures: number }> = {};
    core.definitions.forEach((d, i) => {
      const state = lockStates[i]!;
      if (!factors.includes(d.name) && state.lockedUntil === null) return;
      locks[d.name] = {
        locked: state.lockedUntil !== null,
        until: state.lockedUntil,
        failures: state.failures,
      };
    });
    const enrolled = factors.some((f) => f !== 'email' && f !== 'backup_codes');
    const state = stateFor(req, who.userId);
    const verifiedAt = who.recovery ? undefined : state?.verifiedAt;
    // The guard's rule: passes while now - verifiedAt <= maxAge.
    const verifiedUntil = verifiedAt === undefined ? undefined : verifiedAt + maxAgeMs;
    const verified = verifiedUntil !== undefined && core.now() <= verifiedUntil;
    res.json({
      userId: who.userId,
      factors,
      totp: { enrolled: factors.includes('totp') },
      // Low only matters with a factor to back up: without one there are no codes to run out of.
      backupCodes: { remaining, low: enrolled && remaining < LOW_BACKUP_CODES },
      locks,
      verifiedAt: verifiedAt ?? null,
      verified,
      verifiedUntil: verified ? verifiedUntil : null,
      // Of `factors`, those a phishing site cannot relay (passkeys): what a page should offer first.
      phishingResistant: phishingResistant(factors),
      recovery: who.recovery ? { until: state?.recovery?.until ?? null } : null,
      // `pending`: the sign-in waits for one of `factors`; `enrol`: for a first factor to be set up.
      signIn: who.stage ? { stage: who.stage, until: signInStage(req, core.now())?.until ?? null } : null,
      pending,
      ...(devices ? { trustedDevices: devices.map((d) => ({ ...d, current: d.id === currentDevice })) } : {}),
      ...(passkeys ? { passkeys: passkeys.map(summarize) } : {}),
    });
  };
}
