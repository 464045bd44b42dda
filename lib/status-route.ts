import type { RequestHandler } from 'express';
import type { MfaCore } from './core.js';
import { passkeyRecords, summarize } from './factors/webauthn/passkey-records.js';
import { keys } from './keys.js';
import { stateFor } from './session.js';

/** `GET /`: what a client needs to draw an account page. */
export function statusRoute(core: MfaCore): RequestHandler {
  return async (req, res) => {
    const who = core.actor(req, { allowRecovery: true });
    const [factors, remaining, passkeys] = await Promise.all([
      core.factors(who.userId, who.user),
      core.store.countSet(keys.backupCodes(who.userId)),
      // Listed only when passkeys are on, so its presence also tells a page to offer them.
      core.config.webauthn ? passkeyRecords(core.store).list(who.userId) : undefined,
    ]);
    const state = stateFor(req, who.userId);
    res.json({
      userId: who.userId,
      factors,
      totp: { enrolled: factors.includes('totp') },
      backupCodes: { remaining },
      verifiedAt: state?.verifiedAt ?? null,
      recovery: who.recovery ? { until: state?.recovery?.until ?? null } : null,
      ...(passkeys ? { passkeys: passkeys.map(summarize) } : {}),
    });
  };
}
