import type { Request } from 'express';
import { emptyBody } from '../bodies.js';
import type { MfaCore } from '../core.js';
import { MfaError } from '../errors.js';
import { parseBody } from '../http.js';
import type { Routes } from '../route-table.js';
import { clearDeviceCookie, readCookie } from './device-cookie.js';

/** This browser's device token, when trusted devices are on and it sent one. */
export function deviceToken(core: MfaCore, req: Request): string | undefined {
  const options = core.config.trustedDevices;
  return options ? readCookie(req, options.cookieName) : undefined;
}

/**
 * `/trusted-devices`: the signed-in user's remembered devices, and revoking them one by one or all at
 * once. Revoking only takes trust away, so it needs no fresh MFA: a user who suspects a lost laptop
 * must be able to act at once.
 */
export function trustedDeviceRoutes(core: MfaCore, router: Routes): void {
  const { devices, config } = core;
  // Off: the routes do not exist, and the router answers 404 like any unknown route.
  if (!devices || !config.trustedDevices) return;
  const { cookieName } = config.trustedDevices;

  router.get('/', async (req, res) => {
    const who = core.actor(req, { allowRecovery: false });
    const token = deviceToken(core, req);
    const [list, current] = await Promise.all([
      devices.list(who.userId, core.now()),
      token ? devices.idOf(who.userId, token) : undefined,
    ]);
    res.json({ devices: list.map((d) => ({ ...d, current: d.id === current })) });
  });

  router.delete('/:id', async (req, res) => {
    await parseBody(emptyBody, req.body);
    const who = core.actor(req, { allowRecovery: false });
    const id = String(req.params.id);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id) || !(await devices.revoke(who.userId, id, core.now()))) {
      throw new MfaError('not_found', 'There is no remembered device with that id.');
    }
    const token = deviceToken(core, req);
    if (token && (await devices.idOf(who.userId, token)) === undefined)
      clearDeviceCookie(req, res, cookieName);
    core.emit(req, who.userId, { type: 'trusted_device_revoked', deviceIds: [id], reason: 'user' });
    res.json({ ok: true });
  });

  router.delete('/', async (req, res) => {
    await parseBody(emptyBody, req.body);
    const who = core.actor(req, { allowRecovery: false });
    const revoked = await devices.revokeAll(who.userId, core.now());
    clearDeviceCookie(req, res, cookieName);
    if (revoked.length > 0) {
      core.emit(req, who.userId, { type: 'trusted_device_revoked', deviceIds: revoked, reason: 'user' });
    }
    res.json({ ok: true, revoked: revoked.length });
  });
}
