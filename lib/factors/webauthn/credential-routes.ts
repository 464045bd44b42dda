import type { Actor } from '../../core.js';
import { MfaError } from '../../errors.js';
import { parseBody } from '../../http.js';
import type { Routes } from '../../route-table.js';
import { type PasskeyRecord, summarize } from './passkey-records.js';
import { isCredentialId, removeBody, renameBody } from './webauthn-bodies.js';
import type { WebAuthnContext } from './webauthn-context.js';

const notFound = () => new MfaError('not_found', 'There is no such passkey on this account.');

/** `GET /credentials`, `PATCH` and `DELETE /credentials/:id`: managing the user's passkeys. */
export function credentialRoutes(ctx: WebAuthnContext, router: Routes): void {
  const { core, records } = ctx;

  async function find(userId: string, id: unknown): Promise<PasskeyRecord> {
    const record = typeof id === 'string' && isCredentialId(id) ? await records.get(userId, id) : undefined;
    if (!record) throw notFound();
    return record;
  }

  /** Whether removing this passkey leaves the user with no enrolled factor (backup codes then go too). */
  async function isLastFactor(who: Actor, id: string): Promise<boolean> {
    if ((await records.ids(who.userId)).some((other) => other !== id)) return false;
    const others = (await core.factors(who.userId, who.user)).filter(
      (f) => f !== 'webauthn' && f !== 'backup_codes' && f !== 'email',
    );
    return others.length === 0;
  }

  router.get('/credentials', async (req, res) => {
    const who = core.actor(req, { allowRecovery: false });
    res.json({ passkeys: (await records.list(who.userId)).map(summarize) });
  });

  router.patch('/credentials/:id', async (req, res) => {
    const { name } = await parseBody(renameBody, req.body);
    const who = core.actor(req, { allowRecovery: false });
    const record = await find(who.userId, req.params.id);
    const renamed = { ...record, name };
    await records.save(who.userId, renamed);
    res.json({ ok: true, passkey: summarize(renamed) });
  });

  router.delete('/credentials/:id', async (req, res) => {
    const { confirmLastFactor } = await parseBody(removeBody, req.body);
    const who = core.actor(req, { allowRecovery: false });
    const record = await find(who.userId, req.params.id);
    await core.requireFresh(req, who);
    // Turning MFA off by accident is easy to do and hard to notice: it has to be said explicitly.
    if (confirmLastFactor !== true && (await isLastFactor(who, record.id))) {
      throw new MfaError(
        'last_factor',
        'This passkey is your last second factor: removing it turns two-factor authentication off and deletes your backup codes. Send { "confirmLastFactor": true } to remove it anyway.',
      );
    }
    await records.remove(who.userId, record.id);
    await core.afterFactorRemoved(who.userId, who.user);
    await core.factorsChanged(req, who.userId, { type: 'factor_removed', factor: 'webauthn' });
    res.json({ ok: true });
  });
}
