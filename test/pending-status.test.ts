import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type supertest from 'supertest';
import { createKeyring } from '../lib/crypto.js';
import { outboxEmail, outboxSms } from '../lib/delivery/outbox.js';
import { codeKeys } from '../lib/factors/email-sms/code-keys.js';
import { lastCode, makeCodeApp, verifyByEmail } from './factors/email-sms/helpers.js';
import { makeRecoveryApp, recover } from './factors/recovery/helpers.js';
import { countRoundTrips } from './helpers/round-trips.js';
import { fileRedis, makeSignInApp } from './helpers/sign-in-app.js';
import { makeTestApp, SECRET, totpCode } from './helpers/test-app.js';

const redis = fileRedis();
const MINUTE = 60_000;
const PHONE = '+14155552671';
const NONE = { totpSetup: null, phoneSetup: null, emailCode: null, smsCode: null };

/** The status's `pending`, and the answer's raw text (for what must never be in it). */
async function pendingOf(agent: supertest.Agent) {
  const res = await agent.get('/auth/mfa/').expect(200);
  return { pending: res.body.pending, text: res.text };
}

/** Binds PHONE for a signed-in agent of the code app (email is a factor: a fresh MFA first). */
async function bindPhone(agent: supertest.Agent, t: Awaited<ReturnType<typeof makeCodeApp>>) {
  await verifyByEmail(agent, t.email);
  await agent.post('/auth/mfa/sms/setup').send({ phone: PHONE }).expect(200);
  await agent
    .post('/auth/mfa/sms/confirm')
    .send({ code: lastCode(t.sms) })
    .expect(200);
}

describe('GET / pending: a TOTP setup', () => {
  test('appears after the setup with its expiry, never its secret; gone after the confirm', async () => {
    const t = await makeTestApp(redis());
    const agent = await t.signIn('ada');
    assert.deepEqual((await pendingOf(agent)).pending, NONE);
    const { body } = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    const started = t.clock.now();
    t.clock.advance(20_000);
    const { pending, text } = await pendingOf(agent);
    assert.deepEqual(pending, { ...NONE, totpSetup: { expiresAt: started + 10 * MINUTE } });
    assert.ok(!text.includes(body.secret), 'the secret is never in the status');
    assert.ok(!text.includes('otpauth'), 'nor its URI');

    // Another session of the same user, and another user, see nothing of it.
    assert.equal((await pendingOf(await t.signIn('ada'))).pending.totpSetup, null);
    assert.equal((await pendingOf(await t.signIn('bob'))).pending.totpSetup, null);

    await agent
      .post('/auth/mfa/totp/confirm')
      .send({ code: totpCode(body.secret, t.clock) })
      .expect(200);
    assert.deepEqual((await pendingOf(agent)).pending, NONE);
  });

  test('gone at its expiry by the injected clock, and when another session starts a newer setup', async () => {
    const t = await makeTestApp(redis());
    const agent = await t.signIn('cyd');
    await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    t.clock.advance(10 * MINUTE - 1);
    assert.notEqual((await pendingOf(agent)).pending.totpSetup, null);
    t.clock.advance(1);
    assert.equal((await pendingOf(agent)).pending.totpSetup, null);

    await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    const other = await t.signIn('cyd');
    await other.post('/auth/mfa/totp/setup').send({}).expect(200);
    assert.equal((await pendingOf(agent)).pending.totpSetup, null, 'replaced: its QR code no longer works');
    assert.equal((await pendingOf(other)).pending.totpSetup?.expiresAt, t.clock.now() + 10 * MINUTE);
  });

  test('a recovery session sees the setup it started', async () => {
    const t = await makeRecoveryApp(redis());
    t.addUser('dot');
    const { agent } = await recover(t, 'dot@example.com');
    await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    const { pending } = await pendingOf(agent);
    assert.deepEqual(pending, { ...NONE, totpSetup: { expiresAt: t.clock.now() + 10 * MINUTE } });
  });
});

describe('GET / pending: email and SMS codes', () => {
  test('an email code: masked address, expiry and resend wait by the injected clock', async () => {
    const t = await makeCodeApp(redis());
    const agent = await t.signIn('eve', 'Eve.Smith@example.com');
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    const sentAt = t.clock.now();
    t.clock.advance(10_500);
    const { pending, text } = await pendingOf(agent);
    assert.deepEqual(pending, {
      ...NONE,
      emailCode: { sentTo: 'E***@example.com', expiresAt: sentAt + 5 * MINUTE, resendAfter: 20 },
    });
    assert.ok(!text.includes(lastCode(t.email)), 'the code is never in the status');
    assert.ok(!/eve\.smith/i.test(text), 'the address only masked');

    t.clock.advance(20_000);
    assert.equal((await pendingOf(agent)).pending.emailCode.resendAfter, 0, 'the cooldown is over');
    assert.equal((await pendingOf(await t.signIn('eve', 'Eve.Smith@example.com'))).pending.emailCode, null);
    assert.equal((await pendingOf(await t.signIn('fay'))).pending.emailCode, null);

    await agent
      .post('/auth/mfa/email/verify')
      .send({ code: lastCode(t.email) })
      .expect(200);
    assert.deepEqual((await pendingOf(agent)).pending, NONE);

    // A new one runs out with its 5 minutes.
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    t.clock.advance(5 * MINUTE - 1);
    assert.notEqual((await pendingOf(agent)).pending.emailCode, null);
    t.clock.advance(1);
    assert.equal((await pendingOf(agent)).pending.emailCode, null);
  });

  test('resendAfter says the hourly cap once it is spent, not only the cooldown', async () => {
    const t = await makeCodeApp(redis());
    const agent = await t.signIn('gus');
    for (let i = 0; i < 10; i++) {
      await agent.post('/auth/mfa/email/send').send({}).expect(200);
      t.clock.advance(31_000);
    }
    await agent.post('/auth/mfa/email/send').send({}).expect(429);
    // The tenth send locked the counter for an hour; 31 s of it have passed.
    assert.equal((await pendingOf(agent)).pending.emailCode.resendAfter, 3600 - 31);
  });

  test('a phone setup: masked number until the confirm; an SMS code: until the verify', async () => {
    const t = await makeCodeApp(redis());
    const agent = await t.signIn('hal');
    await verifyByEmail(agent, t.email);
    const setup = await agent.post('/auth/mfa/sms/setup').send({ phone: PHONE }).expect(200);
    const sentAt = t.clock.now();
    t.clock.advance(1_000);
    let { pending, text } = await pendingOf(agent);
    assert.deepEqual(pending, {
      ...NONE,
      phoneSetup: { phone: '+*******2671', expiresAt: sentAt + 5 * MINUTE, resendAfter: 29 },
    });
    assert.equal(setup.body.expiresAt, pending.phoneSetup.expiresAt, 'the time the setup said');
    assert.ok(!text.includes(lastCode(t.sms)), 'the code is never in the status');
    assert.ok(!text.includes('5552671') && !text.includes('555 2671'), 'the number only masked');
    assert.equal((await pendingOf(await t.signIn('hal'))).pending.phoneSetup, null);
    assert.equal((await pendingOf(await t.signIn('ian'))).pending.phoneSetup, null);

    await agent
      .post('/auth/mfa/sms/confirm')
      .send({ code: lastCode(t.sms) })
      .expect(200);
    assert.deepEqual((await pendingOf(agent)).pending, NONE);

    t.clock.advance(30_000);
    await agent.post('/auth/mfa/sms/send').send({}).expect(200);
    ({ pending, text } = await pendingOf(agent));
    assert.deepEqual(pending, {
      ...NONE,
      smsCode: { sentTo: '+*******2671', expiresAt: t.clock.now() + 5 * MINUTE, resendAfter: 30 },
    });
    assert.ok(!text.includes(lastCode(t.sms)));
    assert.equal((await pendingOf(await t.signIn('hal'))).pending.smsCode, null, 'another session');
    await agent
      .post('/auth/mfa/sms/verify')
      .send({ code: lastCode(t.sms) })
      .expect(200);
    assert.deepEqual((await pendingOf(agent)).pending, NONE);
  });

  test('a phone setup and an SMS code expire with their code', async () => {
    const t = await makeCodeApp(redis());
    const agent = await t.signIn('jan');
    await bindPhone(agent, t);
    t.clock.advance(31_000);
    await agent.post('/auth/mfa/sms/send').send({}).expect(200);
    t.clock.advance(31_000);
    await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155550123' }).expect(200);
    const { pending } = await pendingOf(agent);
    assert.equal(pending.smsCode.sentTo, '+*******2671');
    assert.equal(pending.phoneSetup.phone, '+*******0123');
    assert.ok(pending.smsCode.expiresAt < pending.phoneSetup.expiresAt);
    t.clock.advance(pending.smsCode.expiresAt - t.clock.now());
    let now = (await pendingOf(agent)).pending;
    assert.equal(now.smsCode, null);
    assert.notEqual(now.phoneSetup, null);
    t.clock.advance(pending.phoneSetup.expiresAt - t.clock.now());
    now = (await pendingOf(agent)).pending;
    assert.equal(now.phoneSetup, null);
  });

  test('an SMS code sent to a number that is no longer on file is not shown', async () => {
    const t = await makeCodeApp(redis());
    const agent = await t.signIn('kai');
    await bindPhone(agent, t);
    t.clock.advance(31_000);
    await agent.post('/auth/mfa/sms/send').send({}).expect(200);
    assert.notEqual((await pendingOf(agent)).pending.smsCode, null);
    // The number changes in another session: the code sent to the old one can no longer be used.
    const other = await t.signIn('kai');
    await verifyByEmail(other, t.email);
    t.clock.advance(31_000);
    await other.post('/auth/mfa/sms/setup').send({ phone: '+14155550123' }).expect(200);
    await other
      .post('/auth/mfa/sms/confirm')
      .send({ code: lastCode(t.sms) })
      .expect(200);
    assert.equal((await pendingOf(agent)).pending.smsCode, null);
  });

  test('everything at once costs no extra round trip; none of it is a code', async () => {
    const t = await makeCodeApp(redis());
    const agent = await t.signIn('lou');
    await pendingOf(agent);
    const before = countRoundTrips(redis());
    await pendingOf(agent);
    const idle = before.count;
    before.stop();

    await bindPhone(agent, t);
    t.clock.advance(31_000);
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    const emailCode = lastCode(t.email);
    await agent.post('/auth/mfa/sms/send').send({}).expect(200);
    const smsCode = lastCode(t.sms);
    const { body: totp } = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    t.clock.advance(31_000);
    await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155550123' }).expect(200);
    const counter = countRoundTrips(redis());
    const { pending, text } = await pendingOf(agent);
    const trips = counter.count;
    counter.stop();
    assert.deepEqual(Object.keys(pending), ['totpSetup', 'phoneSetup', 'emailCode', 'smsCode']);
    assert.ok(
      Object.values(pending).every((kind) => kind !== null),
      JSON.stringify(pending),
    );
    assert.equal(trips, idle, 'the reads go in the batch the status already makes');
    assert.equal(trips, 3, 'session, the batch, the session touch');
    for (const secret of [emailCode, smsCode, lastCode(t.sms), totp.secret]) {
      assert.ok(!text.includes(secret), 'no code or secret in the status');
    }
  });
});

describe('GET / pending: an unfinished sign-in', () => {
  test('a sign-in waiting for its second factor sees the codes it sent, nothing else', async () => {
    const email = outboxEmail({ log: false });
    const sms = outboxSms({ log: false });
    const t = await makeSignInApp(redis(), { email, sms, signIn: { emailCodes: true } });
    const own = await t.signIn('max');
    await verifyByEmail(own, email);
    await own.post('/auth/mfa/sms/setup').send({ phone: PHONE }).expect(200);
    await own
      .post('/auth/mfa/sms/confirm')
      .send({ code: lastCode(sms) })
      .expect(200);
    // The signed-in session leaves a setup behind; the sign-in elsewhere must not see it.
    await own.post('/auth/mfa/totp/setup').send({}).expect(200);

    t.clock.advance(31_000);
    const { agent, res } = await t.password('max');
    assert.equal(res.body.status, 'mfa_required');
    assert.deepEqual((await pendingOf(agent)).pending, NONE);
    await agent.post('/auth/mfa/sms/send').send({}).expect(200);
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    const { pending, text } = await pendingOf(agent);
    assert.deepEqual(pending, {
      ...NONE,
      emailCode: { sentTo: 'm***@example.com', expiresAt: t.clock.now() + 5 * MINUTE, resendAfter: 30 },
      smsCode: { sentTo: '+*******2671', expiresAt: t.clock.now() + 5 * MINUTE, resendAfter: 30 },
    });
    assert.ok(!text.includes(lastCode(sms)) && !text.includes(lastCode(email)));
  });

  test('a setup-only sign-in sees the email code that proves its mailbox, then its own setup', async () => {
    const email = outboxEmail({ log: false });
    const t = await makeSignInApp(redis(), { email, signIn: { enrolment: 'required' } });
    const { agent } = await t.password('ned');
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    assert.equal((await pendingOf(agent)).pending.emailCode.sentTo, 'n***@example.com');
    await agent
      .post('/auth/mfa/email/verify')
      .send({ code: lastCode(email) })
      .expect(200);
    await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    const { pending } = await pendingOf(agent);
    assert.deepEqual(pending, { ...NONE, totpSetup: { expiresAt: t.clock.now() + 10 * MINUTE } });
  });
});

test('a code stored before codes carried a session tag still redeems, and is not shown', async () => {
  const prefix = `legacy${Date.now()}:`;
  const t = await makeCodeApp(redis(), { prefix });
  t.app.get('/test/session-id', (req, res) => {
    res.json({ id: req.sessionID });
  });
  const agent = await t.signIn('oli');
  const { id } = (await agent.get('/test/session-id').expect(200)).body;
  const expiresAt = t.clock.now() + 5 * MINUTE;
  const context = `code:email:sign_in:oli:${id}:oli@example.com:${expiresAt}`;
  const stored = `${expiresAt}.${createKeyring([SECRET]).hash(context, '123456')}`;
  await redis().set(`${prefix}mfa:${codeKeys.code('oli', 'email', 'sign_in')}`, stored, 'PX', 5 * MINUTE);
  assert.equal((await pendingOf(agent)).pending.emailCode, null);
  await agent.post('/auth/mfa/email/verify').send({ code: '123456' }).expect(200);
});
