import { codeBody, emptyBody } from '../../bodies.js';
import type { MfaCore } from '../../core.js';
import { MfaError } from '../../errors.js';
import { withReturnTo } from '../../guard/return-to.js';
import { parseBody } from '../../http.js';
import { keys } from '../../keys.js';
import { limitedAttempt } from '../../limits.js';
import type { Routes } from '../../route-table.js';
import { backupCodeContext, normalizeBackupCode } from './backup-codes.js';

export function backupCodeRoutes(core: MfaCore, router: Routes): void {
  const { store, keyring, config } = core;

  router.post('/verify', async (req, res) => {
    const { code, rememberDevice } = await parseBody(codeBody, req.body);
    const who = core.actor(req, { allowRecovery: false, allowPending: true });
    const setKey = keys.backupCodes(who.userId);
    if ((await store.countSet(setKey)) === 0) {
      throw new MfaError('not_enrolled', 'This account has no backup codes left.');
    }
    const normal = normalizeBackupCode(code);
    // Removing the code's hash from the set is the redemption: atomic, so a code works exactly once.
    await limitedAttempt(
      config,
      core.emit,
      req,
      who.userId,
      'backup_codes',
      normal === null
        ? { kind: 'check', ok: false }
        : {
            kind: 'remove-member',
            key: setKey,
            members: keyring.hashes(backupCodeContext(who.userId), normal),
          },
    );
    // The count after the redemption travels with the session's regeneration: one round trip for both.
    const count = store.countSet(setKey);
    const outcome = await core.finishVerification(req, res, who, 'backup_codes', { rememberDevice }, count);
    const remaining = await count;
    core.emit(req, who.userId, { type: 'backup_code_used', factor: 'backup_codes', remaining });
    core.emit(req, who.userId, { type: 'verified', factor: 'backup_codes' });
    res.json(withReturnTo(req, { ok: true, ...outcome, remaining }));
  });

  router.post('/', async (req, res) => {
    await parseBody(emptyBody, req.body);
    const who = core.actor(req, { allowRecovery: true });
    const factors = await core.enrolledFactors(who.userId, who.user);
    if (factors.length === 0) {
      throw new MfaError('not_enrolled', 'Set up a second factor first; backup codes back it up.', {
        factors: [],
      });
    }
    await core.requireFresh(req, who);
    const backupCodes = await core.replaceBackupCodes(who.userId);
    await core.factorsChanged(req, who.userId, { type: 'backup_codes_regenerated', factor: 'backup_codes' });
    res.json({ backupCodes });
  });
}
