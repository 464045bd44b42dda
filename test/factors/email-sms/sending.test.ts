import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { DeliveryError } from '../../../lib/delivery/delivery-error.js';
import { sendgridEmail } from '../../../lib/delivery/sendgrid.js';
import { twilioSms } from '../../../lib/delivery/twilio.js';
import { type FakeSendgrid, startFakeSendgrid } from '../../helpers/fake-sendgrid.js';
import { type FakeTwilio, startFakeTwilio } from '../../helpers/fake-twilio.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { makeTestApp } from '../../helpers/test-app.js';
import { makeCodeApp } from './helpers.js';

let redis: TestRedis;
let sendgrid: FakeSendgrid;
let twilio: FakeTwilio;
before(async () => {
  [redis, sendgrid, twilio] = await Promise.all([startRedis(), startFakeSendgrid(), startFakeTwilio()]);
});
after(() => Promise.all([redis.close(), sendgrid.close(), twilio.close()]));
beforeEach(() => {
  sendgrid.mode = { kind: 'ok' };
  twilio.mode = { kind: 'ok' };
});

const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)?.[1] ?? assert.fail(`no code in ${text}`);

describe('resend cooldown and hourly caps', () => {
  test('a second send within 30 s is 429 with Retry-After; then it works', async () => {
    const t = await makeCodeApp(redis.client());
    const agent = await t.signIn('ada');
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    t.clock.advance(10_000);
    const early = await agent.post('/auth/mfa/email/send').send({}).expect(429);
    assert.equal(early.body.error, 'too_many_attempts');
    assert.equal(early.headers['retry-after'], '20');
    assert.equal(early.body.retryAfter, 20);
    assert.match(early.body.message, /sent a moment ago/);
    t.clock.advance(20_000);
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    assert.equal(t.email.messages().length, 2);
  });

  test('at most maxSendsPerHour per user and channel, whatever the session', async () => {
    const t = await makeCodeApp(redis.client(), { codes: { maxSendsPerHour: 3, resendCooldownMs: 1000 } });
    for (let i = 0; i < 3; i++) {
      const agent = await t.signIn('bob');
      await agent.post('/auth/mfa/email/send').send({}).expect(200);
      t.clock.advance(1000);
    }
    const agent = await t.signIn('bob');
    const capped = await agent.post('/auth/mfa/email/send').send({}).expect(429);
    assert.match(capped.body.message, /Too many codes were sent to this account/);
    assert.ok(Number(capped.headers['retry-after']) > 3500);
    t.clock.advance(60 * 60_000);
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
  });

  test('at most maxSendsPerDestinationPerHour to one address, whichever user asks', async () => {
    const t = await makeCodeApp(redis.client(), { codes: { maxSendsPerDestinationPerHour: 2 } });
    const one = await t.signIn('cy', 'Shared@example.com');
    const two = await t.signIn('di', 'shared@example.com');
    const three = await t.signIn('ed', 'shared@example.com');
    await one.post('/auth/mfa/email/send').send({}).expect(200);
    await two.post('/auth/mfa/email/send').send({}).expect(200);
    const capped = await three.post('/auth/mfa/email/send').send({}).expect(429);
    assert.match(capped.body.message, /sent to this address/);
  });
});

describe('provider failures', () => {
  test('SendGrid answering 4xx/5xx: 502 delivery_failed, the code is deleted, an event says why', async () => {
    const client = redis.client();
    for (const status of [400, 500]) {
      const t = await makeTestApp(client, {
        prefix: `sg${status}:`,
        email: sendgridEmail({ from: 'no-reply@acme.test', client: sendgrid.client() }),
      });
      sendgrid.mode = { kind: 'error', status, body: { errors: [{ message: 'nope' }] } };
      const agent = await t.signIn('fay');
      const res = await agent.post('/auth/mfa/email/send').send({}).expect(502);
      assert.equal(res.body.error, 'delivery_failed');
      assert.match(res.body.message, /could not send the email/);
      assert.deepEqual(await client.keys(`sg${status}:mfa:*:code:email:sign_in`), []);
      const failed = t.events.find((e) => e.type === 'delivery_failed');
      assert.deepEqual(failed && { ...failed, at: 0, ip: '' }, {
        type: 'delivery_failed',
        factor: 'email',
        purpose: 'sign_in',
        to: 'f***@example.com',
        reason: 'rejected',
        status,
        userId: 'fay',
        at: 0,
        ip: '',
      });
      // The code that reached the provider does not work.
      sendgrid.mode = { kind: 'ok' };
      const sent = sendgrid.mails().at(-1)!;
      await agent
        .post('/auth/mfa/email/verify')
        .send({ code: codeIn(sent.content[0]!.value) })
        .expect(401);
    }
  });

  test('a provider that hangs is a 502 after the timeout, never a pass', async () => {
    twilio.mode = { kind: 'hang' };
    const t = await makeTestApp(redis.client(), {
      sms: twilioSms({ from: '+15005550006', client: twilio.client(), timeoutMs: 300 }),
    });
    const agent = await t.signIn('gil');
    const res = await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(502);
    assert.equal(res.body.error, 'delivery_failed');
    assert.equal(t.events.find((e) => e.type === 'delivery_failed' && e.reason === 'timeout')?.factor, 'sms');
    twilio.mode = { kind: 'ok' };
    const confirm = await agent.post('/auth/mfa/sms/confirm').send({ code: '123456' }).expect(403);
    assert.equal(confirm.body.error, 'not_enrolled');
  });

  test('any sender is bounded by codes.sendTimeoutMs, and any sender error is a 502', async () => {
    const hanging = { send: () => new Promise<void>(() => {}) };
    const t = await makeTestApp(redis.client(), { email: hanging, codes: { sendTimeoutMs: 1000 } });
    const agent = await t.signIn('hip');
    await agent.post('/auth/mfa/email/send').send({}).expect(502);
    assert.equal(t.events.find((e) => e.type === 'delivery_failed')?.reason, 'timeout');

    const throwing = {
      send: () => {
        throw new DeliveryError('Mailer refused', 'rejected', 550);
      },
    };
    const u = await makeTestApp(redis.client(), { email: throwing });
    await (await u.signIn('ivy')).post('/auth/mfa/email/send').send({}).expect(502);
    assert.equal(u.events.find((e) => e.type === 'delivery_failed')?.status, 550);
  });
});

describe('secrecy', () => {
  test('codes never appear in events or in anything written to the console', async () => {
    const written: string[] = [];
    const originals = { out: process.stdout.write, err: process.stderr.write };
    const capture = (original: typeof process.stdout.write) =>
      function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
        written.push(String(chunk));
        return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
      } as typeof process.stdout.write;
    process.stdout.write = capture(originals.out);
    process.stderr.write = capture(originals.err);
    try {
      const t = await makeTestApp(redis.client(), {
        email: sendgridEmail({ from: 'no-reply@acme.test', client: sendgrid.client() }),
        sms: twilioSms({ from: '+15005550006', client: twilio.client() }),
        limits: { maxFailures: 2 },
      });
      const agent = await t.signIn('jay');
      await agent.post('/auth/mfa/email/send').send({}).expect(200);
      const emailCode = codeIn(sendgrid.mails().at(-1)!.content[0]!.value);
      await agent.post('/auth/mfa/email/verify').send({ code: emailCode }).expect(200);
      await agent.post('/auth/mfa/sms/setup').send({ phone: '+1 415 555 2671' }).expect(200);
      const smsCode = codeIn(twilio.messages().at(-1)!.Body!);
      await agent.post('/auth/mfa/sms/confirm').send({ code: smsCode }).expect(200);
      t.clock.advance(60_000);
      await agent.post('/auth/mfa/sms/send').send({}).expect(200);
      const signInCode = codeIn(twilio.messages().at(-1)!.Body!);
      twilio.mode = { kind: 'error', status: 500, body: { code: 30008, message: `failed ${signInCode}` } };
      t.clock.advance(60_000);
      await agent.post('/auth/mfa/sms/send').send({}).expect(502);
      const failedCode = codeIn(twilio.messages().at(-1)!.Body!);
      for (let i = 0; i < 3; i++)
        await agent.post('/auth/mfa/sms/verify').send({ code: String(i).repeat(6) });

      const codes = [emailCode, smsCode, signInCode, failedCode];
      const seen = JSON.stringify(t.events) + written.join('');
      for (const code of codes) assert.ok(!seen.includes(code), `code ${code} leaked`);
      assert.ok(!seen.includes('4155552671'), 'a full phone number leaked');
      assert.ok(t.events.some((e) => e.type === 'message_sent' && e.to === '+*******2671'));
      assert.ok(t.events.some((e) => e.type === 'locked' && e.factor === 'sms'));
    } finally {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    }
  });
});
