import type { Request } from 'express';
import { codeBody, emptyBody } from '../../bodies.js';
import type { MfaCore } from '../../core.js';
import { maskPhone } from '../../delivery/mask.js';
import { MfaError } from '../../errors.js';
import { withReturnTo } from '../../guard/return-to.js';
import { parseBody } from '../../http.js';
import { lazySchema } from '../../lazy-schema.js';
import type { Routes } from '../../route-table.js';
import { codeKeys, smsRecordKeys } from './code-keys.js';
import { type CodeTarget, createCodeService } from './code-service.js';
import { parsePhone, phoneLibrary } from './phone.js';
import { type PhoneKind, phoneContext, readPhoneRecord, type StoredPhone } from './phone-record.js';
import { createMessageRenderer } from './render-message.js';

const phoneBody = lazySchema((z) =>
  z.object({
    phone: z
      .string({ error: 'send the number as a JSON string, like { "phone": "+14155552671" }.' })
      .max(32, { error: 'a phone number is at most 32 characters.' }),
  }),
);

/**
 * `/sms`: bind a phone number by proving it receives a code (setup, confirm), then use it as a
 * second factor (send, verify); `GET /` shows it masked; `DELETE /` removes it.
 */
export function smsRoutes(core: MfaCore, router: Routes): void {
  // Without a sender the routes do not exist: the router answers 404 like any unknown route.
  if (!core.config.sms) return;
  // SMS is on: load the phone metadata now rather than on the first request.
  phoneLibrary();
  const { store, keyring, config } = core;
  const codes = createCodeService(core);
  const render = createMessageRenderer(config);
  const context = phoneContext;
  const resendAfter = Math.ceil(config.codes.resendCooldownMs / 1000);

  async function read(kind: PhoneKind, userId: string) {
    const raw = await store.get(kind === 'bound' ? codeKeys.phone(userId) : codeKeys.pendingPhone(userId));
    return readPhoneRecord(keyring, raw, kind, userId, core.now());
  }

  async function boundPhone(userId: string) {
    const bound = await read('bound', userId);
    if (!bound) throw new MfaError('not_enrolled', 'No phone number is set up for this account.');
    return bound;
  }

  const signIn = (userId: string, phone: string): CodeTarget => ({
    userId,
    channel: 'sms',
    purpose: 'sign_in',
    destination: phone,
  });

  // Not an enrolment route: a recovery session may bind a number, not read the one on file. A
  // sign-in waiting for its second factor may read it, masked, to say where the code goes.
  router.get('/', async (req, res) => {
    const who = core.actor(req, { allowRecovery: false, allowPending: true });
    const bound = await read('bound', who.userId);
    res.json({ enrolled: bound !== undefined, phone: bound ? maskPhone(bound.phone) : null });
  });

  // Changing the number is binding a new one: the same two steps, under the same fresh-MFA rule.
  router.post('/setup', async (req, res) => {
    const { phone: input } = await parseBody(phoneBody, req.body);
    const phone = parsePhone(input, config.phone.allowedCountries);
    const who = core.actor(req, { allowRecovery: true });
    // Also before sending: a password alone must not be able to text codes to any number.
    await core.requireFresh(req, who);
    const target: CodeTarget = {
      userId: who.userId,
      channel: 'sms',
      purpose: 'confirm_phone',
      destination: phone.number,
    };
    const { expiresAt } = await codes.send(req, target, (values) => ({
      to: phone.number,
      body: render.phoneConfirmationSms(values, req, who.user),
    }));
    const pending: StoredPhone = {
      phone: keyring.encrypt(phone.number, context('pending', who.userId)),
      expiresAt,
    };
    await store.set(codeKeys.pendingPhone(who.userId), JSON.stringify(pending), config.codes.ttlMs);
    res.json({ ok: true, phone: phone.display, expiresAt, resendAfter });
  });

  router.post('/confirm', async (req, res) => {
    const { code } = await parseBody(codeBody, req.body);
    const who = core.actor(req, { allowRecovery: true });
    const pending = await read('pending', who.userId);
    if (!pending) {
      throw new MfaError(
        'not_enrolled',
        'Start with POST /sms/setup; the number waiting for confirmation is missing or expired.',
      );
    }
    await core.requireFresh(req, who);
    // The code is bound to the pending number and taken atomically: of parallel confirms, one wins.
    await codes.redeem(req, { ...signIn(who.userId, pending.phone), purpose: 'confirm_phone' }, code);
    await store.delete(codeKeys.pendingPhone(who.userId));
    const record: StoredPhone = {
      phone: keyring.encrypt(pending.phone, context('bound', who.userId)),
      createdAt: core.now(),
    };
    await store.set(codeKeys.phone(who.userId), JSON.stringify(record));
    const backupCodes = await core.issueBackupCodesIfNone(who.userId);
    // The masked number lets the security notice (sent by the core for this event) name it.
    await core.factorsChanged(req, who.userId, {
      type: 'enrolled',
      factor: 'sms',
      to: maskPhone(pending.phone),
    });
    const signedIn = await core.finishEnrolment(req, res, who, 'sms', backupCodes);
    const phone = maskPhone(pending.phone);
    res.json(withReturnTo(req, { ok: true, phone, ...signedIn, ...(backupCodes ? { backupCodes } : {}) }));
  });

  router.post('/send', async (req, res) => {
    await parseBody(emptyBody, req.body);
    const who = core.actor(req, { allowRecovery: false, allowPending: true });
    const { phone } = await boundPhone(who.userId);
    const { expiresAt } = await codes.send(req, signIn(who.userId, phone), (values) => ({
      to: phone,
      body: render.signInSms(values, req, who.user),
    }));
    res.json({ ok: true, sentTo: maskPhone(phone), expiresAt, resendAfter });
  });

  router.post('/verify', async (req: Request, res) => {
    const { code, rememberDevice } = await parseBody(codeBody, req.body);
    const who = core.actor(req, { allowRecovery: false, allowPending: true });
    const bound = await boundPhone(who.userId);
    await codes.redeem(req, signIn(who.userId, bound.phone), code);
    if (!keyring.isCurrent(bound.record.phone)) {
      // After a rotation of `secret`, move this number to the current key so old secrets can be retired.
      const rotated: StoredPhone = {
        ...bound.record,
        phone: keyring.encrypt(bound.phone, context('bound', who.userId)),
      };
      await store.set(codeKeys.phone(who.userId), JSON.stringify(rotated));
    }
    const outcome = await core.finishVerification(req, res, who, 'sms', { rememberDevice });
    core.emit(req, who.userId, { type: 'verified', factor: 'sms' });
    res.json(withReturnTo(req, { ok: true, ...outcome }));
  });

  router.delete('/', async (req, res) => {
    await parseBody(emptyBody, req.body);
    const who = core.actor(req, { allowRecovery: false });
    const { phone } = await boundPhone(who.userId);
    await core.requireFresh(req, who);
    await store.delete(...smsRecordKeys(who.userId));
    await core.afterFactorRemoved(who.userId, who.user);
    await core.factorsChanged(req, who.userId, {
      type: 'factor_removed',
      factor: 'sms',
      to: maskPhone(phone),
    });
    res.json({ ok: true });
  });
}
