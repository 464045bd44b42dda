import { Router } from 'express';
import QRCode from 'qrcode';
import { codeBody, emptyBody } from '../../bodies.js';
import type { Actor, MfaCore } from '../../core.js';
import { MfaError } from '../../errors.js';
import { parseBody } from '../../http.js';
import { keys } from '../../keys.js';
import { limitedAttempt } from '../../limits.js';
import { elevateSession } from '../../session.js';
import { generateTotpSecret, matchTotpStep, normalizeTotpCode, totpUri } from './totp.js';

interface StoredSecret {
  secret: string;
  createdAt?: number;
  expiresAt?: number;
}

/** The last accepted step only matters while its codes are inside the window; keep it a while longer. */
const LAST_STEP_TTL_MS = 10 * 60 * 1000;

export function totpRoutes(core: MfaCore): Router {
  const { store, keyring, config } = core;
  const context = (userId: string) => `totp:${userId}`;
  const router = Router();

  async function readSecret(key: string, userId: string): Promise<StoredSecret | undefined> {
    const raw = await store.get(key);
    if (raw === null) return undefined;
    const record = JSON.parse(raw) as StoredSecret;
    if (record.expiresAt !== undefined && record.expiresAt <= core.now()) return undefined;
    return { ...record, secret: keyring.decrypt(record.secret, context(userId)) };
  }

  /** Checks a code against `secret` and redeems its time step, inside the factor's attempt limit. */
  async function redeem(req: Parameters<typeof limitedAttempt>[2], who: Actor, secret: string, code: string) {
    const step = matchTotpStep({
      secret,
      code: normalizeTotpCode(code),
      nowMs: core.now(),
      window: config.totp.window,
    });
    await limitedAttempt(
      config,
      core.emit,
      req,
      who.userId,
      'totp',
      step === null
        ? { kind: 'check', ok: false }
        : { kind: 'advance', key: keys.totpLastStep(who.userId), value: step, ttlMs: LAST_STEP_TTL_MS },
    );
  }

  router.post('/setup', async (req, res) => {
    parseBody(emptyBody, req.body);
    const who = core.actor(req, { allowRecovery: true });
    if ((await store.get(keys.totp(who.userId))) !== null) {
      throw new MfaError(
        'already_enrolled',
        'An authenticator app is already set up. Remove it first to replace it.',
      );
    }
    await core.requireFresh(req, who);
    const secret = generateTotpSecret();
    const now = core.now();
    // Pending secrets wait in the store, encrypted: the session is plaintext in Redis.
    const pending: StoredSecret = {
      secret: keyring.encrypt(secret, context(who.userId)),
      expiresAt: now + config.totp.pendingTtlMs,
    };
    await store.set(keys.totpPending(who.userId), JSON.stringify(pending), config.totp.pendingTtlMs);
    const label = who.user?.email ?? who.user?.name ?? who.userId;
    const uri = totpUri(secret, config.issuer, label);
    res.json({ secret, uri, qrCode: await QRCode.toDataURL(uri) });
  });

  router.post('/confirm', async (req, res) => {
    const { code } = parseBody(codeBody, req.body);
    const who = core.actor(req, { allowRecovery: true });
    if ((await store.get(keys.totp(who.userId))) !== null) {
      throw new MfaError('already_enrolled', 'An authenticator app is already set up.');
    }
    const pending = await readSecret(keys.totpPending(who.userId), who.userId);
    if (!pending)
      throw new MfaError(
        'not_enrolled',
        'Start with POST /totp/setup; the pending secret is missing or expired.',
      );
    await core.requireFresh(req, who);
    await redeem(req, who, pending.secret, code);

    const record: StoredSecret = {
      secret: keyring.encrypt(pending.secret, context(who.userId)),
      createdAt: core.now(),
    };
    await store.set(keys.totp(who.userId), JSON.stringify(record));
    await store.delete(keys.totpPending(who.userId));
    const backupCodes = await core.issueBackupCodesIfNone(who.userId);
    core.emit(req, who.userId, { type: 'enrolled', factor: 'totp' });
    // Confirming proves the factor, so it elevates like a verification; a recovery session stays limited.
    if (!who.recovery) await elevateSession(req, who.userId, 'totp', core.now());
    res.json(backupCodes ? { ok: true, backupCodes } : { ok: true });
  });

  router.post('/verify', async (req, res) => {
    const { code } = parseBody(codeBody, req.body);
    const who = core.actor(req, { allowRecovery: false });
    const record = await readSecret(keys.totp(who.userId), who.userId);
    if (!record) throw new MfaError('not_enrolled', 'No authenticator app is set up for this account.');
    await redeem(req, who, record.secret, code);
    const verifiedAt = core.now();
    await elevateSession(req, who.userId, 'totp', verifiedAt);
    core.emit(req, who.userId, { type: 'verified', factor: 'totp' });
    res.json({ ok: true, verifiedAt });
  });

  router.delete('/', async (req, res) => {
    parseBody(emptyBody, req.body);
    const who = core.actor(req, { allowRecovery: false });
    if ((await store.get(keys.totp(who.userId))) === null) {
      throw new MfaError('not_enrolled', 'No authenticator app is set up for this account.');
    }
    await core.requireFresh(req, who);
    await store.delete(keys.totp(who.userId), keys.totpLastStep(who.userId));
    await core.afterFactorRemoved(who.userId);
    core.emit(req, who.userId, { type: 'factor_removed', factor: 'totp' });
    res.json({ ok: true });
  });

  return router;
}
