import { codeBody, emptyBody } from '../../bodies.js';
import type { Actor, MfaCore } from '../../core.js';
import { MfaError } from '../../errors.js';
import { withReturnTo } from '../../guard/return-to.js';
import { parseBody } from '../../http.js';
import { keys } from '../../keys.js';
import { limitedAttempt } from '../../limits.js';
import type { Routes } from '../../route-table.js';
import { type StoredSecret, setupSessionTag } from './pending-setup.js';
import { generateTotpSecret, matchTotpStep, normalizeTotpCode, totpUri } from './totp.js';

let qrcode: Promise<typeof import('qrcode')> | undefined;
/** qrcode, loaded once on the first setup: an app pays for it only when someone sets up TOTP. */
const qrCodeLibrary = () => (qrcode ??= import('qrcode'));

/**
 * The last accepted step must outlive every code it could block: a code for step s is accepted from
 * step s - window to s + window, so keep it (2 * window + 2) steps, plus a minute for clock skew.
 */
const lastStepTtlMs = (window: number) => (2 * window + 2) * 30_000 + 60_000;

export function totpRoutes(core: MfaCore, router: Routes): void {
  const { store, keyring, config } = core;
  const context = (userId: string) => `totp:${userId}`;

  /** The stored record with its secret decrypted, plus the raw value (to detect a concurrent change). */
  async function readSecret(key: string, userId: string) {
    const raw = await store.get(key);
    if (raw === null) return undefined;
    const record = JSON.parse(raw) as StoredSecret;
    if (record.expiresAt !== undefined && record.expiresAt <= core.now()) return undefined;
    return { raw, record, secret: keyring.decrypt(record.secret, context(userId)) };
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
        : {
            kind: 'advance',
            key: keys.totpLastStep(who.userId),
            value: step,
            ttlMs: lastStepTtlMs(config.totp.window),
          },
    );
  }

  router.post('/setup', async (req, res) => {
    await parseBody(emptyBody, req.body);
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
    // Pending secrets wait in the store, encrypted: the session is plaintext in Redis. The session
    // tag lets this session's status say a setup is in progress (never the secret, see pending-setup.ts).
    const pending: StoredSecret = {
      secret: keyring.encrypt(secret, context(who.userId)),
      expiresAt: now + config.totp.pendingTtlMs,
      session: setupSessionTag(core, req, who.userId),
    };
    await store.set(keys.totpPending(who.userId), JSON.stringify(pending), config.totp.pendingTtlMs);
    const label = who.user?.email ?? who.user?.name ?? who.userId;
    const uri = totpUri(secret, config.issuer, label);
    const { toDataURL } = await qrCodeLibrary();
    res.json({ secret, uri, qrCode: await toDataURL(uri) });
  });

  router.post('/confirm', async (req, res) => {
    const { code } = await parseBody(codeBody, req.body);
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

    // Codes of neighbouring steps can pass in parallel: taking the pending secret picks one winner.
    const pendingKey = keys.totpPending(who.userId);
    const taken = await store.take(pendingKey);
    if (taken !== pending.raw) {
      if (taken !== null && pending.record.expiresAt !== undefined) {
        // A newer setup replaced ours meanwhile: put it back for the request that belongs to it.
        await store.set(pendingKey, taken, Math.max(1, pending.record.expiresAt - core.now()));
      }
      throw taken === null
        ? new MfaError('already_enrolled', 'An authenticator app was just set up by another request.')
        : new MfaError('not_enrolled', 'A newer setup replaced this one: scan the newest QR code.');
    }
    const record: StoredSecret = { secret: pending.record.secret, createdAt: core.now() };
    await store.set(keys.totp(who.userId), JSON.stringify(record));
    const backupCodes = await core.issueBackupCodesIfNone(who.userId);
    await core.factorsChanged(req, who.userId, { type: 'enrolled', factor: 'totp' });
    const signedIn = await core.finishEnrolment(req, res, who, 'totp', backupCodes);
    res.json(withReturnTo(req, { ok: true, ...signedIn, ...(backupCodes ? { backupCodes } : {}) }));
  });

  router.post('/verify', async (req, res) => {
    const { code, rememberDevice } = await parseBody(codeBody, req.body);
    const who = core.actor(req, { allowRecovery: false, allowPending: true });
    const record = await readSecret(keys.totp(who.userId), who.userId);
    if (!record) throw new MfaError('not_enrolled', 'No authenticator app is set up for this account.');
    await redeem(req, who, record.secret, code);
    if (!keyring.isCurrent(record.record.secret)) {
      // After a rotation of `secret`, move this user to the current key so old secrets can be retired.
      const rotated: StoredSecret = {
        ...record.record,
        secret: keyring.encrypt(record.secret, context(who.userId)),
      };
      await store.set(keys.totp(who.userId), JSON.stringify(rotated));
    }
    const outcome = await core.finishVerification(req, res, who, 'totp', { rememberDevice });
    core.emit(req, who.userId, { type: 'verified', factor: 'totp' });
    res.json(withReturnTo(req, { ok: true, ...outcome }));
  });

  router.delete('/', async (req, res) => {
    await parseBody(emptyBody, req.body);
    const who = core.actor(req, { allowRecovery: false });
    if ((await store.get(keys.totp(who.userId))) === null) {
      throw new MfaError('not_enrolled', 'No authenticator app is set up for this account.');
    }
    await core.requireFresh(req, who);
    await store.delete(keys.totp(who.userId), keys.totpLastStep(who.userId));
    await core.afterFactorRemoved(who.userId, who.user);
    await core.factorsChanged(req, who.userId, { type: 'factor_removed', factor: 'totp' });
    res.json({ ok: true });
  });
}
