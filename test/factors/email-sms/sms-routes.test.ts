import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import supertest from 'supertest';
import { outboxSms } from '../../../lib/delivery/outbox.js';
import { twilioSms } from '../../../lib/delivery/twilio.js';
import { type FakeTwilio, startFakeTwilio } from '../../helpers/fake-twilio.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { enrolTotp, makeTestApp, totpCode } from '../../helpers/test-app.js';
import { lastCode, makeCodeApp, otherCode, verifyByEmail } from './helpers.js';

let redis: TestRedis;
let twilio: FakeTwilio;
before(async () => {
  [redis, twilio] = await Promise.all([startRedis(), startFakeTwilio()]);
});
after(() => Promise.all([redis.close(), twilio.close()]));

/** An app with SMS only (no email sender), so a phone can be a user's first factor. */
const smsOnly = (overrides = {}) => {
  const sms = outboxSms({ log: false });
  return makeTestApp(redis.client(), { sms, ...overrides }).then((t) => ({ ...t, sms }));
};

describe('POST /sms/setup', () => {
  test('validates the number before anything else: 400s that say what to fix', async () => {
    const t = await smsOnly({ phone: { allowedCountries: ['us', 'CA'] } });
    const agent = await t.signIn('ada');
    const cases: [unknown, RegExp][] = [
      [{}, /`phone`: send the number as a JSON string/],
      [{ phone: 14155552671 }, /JSON string/],
      [{ phone: '+1'.padEnd(33, '5') }, /at most 32 characters/],
      [{ phone: '(415) 555-2671' }, /international format, with \+ and the country code/],
      [{ phone: '+1 415 FLOWERS' }, /use digits only/],
      [{ phone: '+1 415 555' }, /not a valid mobile number/],
      [{ phone: '+44 20 7946 0958' }, /not a valid mobile number/], // a London landline
      [{ phone: '+44 7400 123456' }, /Allowed countries: US, CA/],
      [{ phone: '+1 876 555 1234' }, /Allowed countries: US, CA/], // +1, but Jamaica
    ];
    for (const [body, message] of cases) {
      const res = await agent
        .post('/auth/mfa/sms/setup')
        .send(body as object)
        .expect(400);
      assert.equal(res.body.error, 'invalid_request');
      assert.match(res.body.message, message, JSON.stringify(body));
    }
    // Validation comes first: an anonymous bad request is a 400, a good one a 401.
    await supertest(t.app).post('/auth/mfa/sms/setup').send({ phone: 'x' }).expect(400);
    await supertest(t.app).post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(401);
    assert.deepEqual(t.sms.messages(), []);
    const ok = await agent.post('/auth/mfa/sms/setup').send({ phone: '+1 (415) 555-2671' }).expect(200);
    assert.equal(ok.body.phone, '+1 415 555 2671');
  });

  test('texts a confirmation code through the real Twilio SDK to the E.164 number', async () => {
    const t = await makeTestApp(redis.client(), {
      sms: twilioSms({ from: '+15005550006', client: twilio.client() }),
    });
    const agent = await t.signIn('bob');
    await agent.post('/auth/mfa/sms/setup').send({ phone: '+49 1512 3456789' }).expect(200);
    const [sent] = twilio.messages().slice(-1);
    assert.equal(sent!.To, '+4915123456789');
    assert.equal(sent!.From, '+15005550006');
    assert.match(
      sent!.Body!,
      /^\d{6} is your Acme code to confirm this phone number\. It expires in 5 minutes\.$/,
    );
    const code = sent!.Body!.slice(0, 6);
    const res = await agent.post('/auth/mfa/sms/confirm').send({ code }).expect(200);
    assert.equal(res.body.phone, '+*********6789');
  });
});

describe('POST /sms/confirm', () => {
  test('binds the number as a first factor: backup codes once, session elevated, events', async () => {
    const t = await smsOnly();
    const agent = await t.signIn('cyd');
    await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(200);
    const wrong = await agent
      .post('/auth/mfa/sms/confirm')
      .send({ code: otherCode(lastCode(t.sms)) })
      .expect(401);
    assert.equal(wrong.body.error, 'invalid_code');
    const res = await agent
      .post('/auth/mfa/sms/confirm')
      .send({ code: lastCode(t.sms) })
      .expect(200);
    assert.equal(res.body.backupCodes.length, 10);
    await agent.get('/guarded').expect(200);
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, ['sms', 'backup_codes']);
    assert.deepEqual((await agent.get('/auth/mfa/sms').expect(200)).body, {
      enrolled: true,
      phone: '+*******2671',
    });
    assert.deepEqual(
      t.events.map((e) => `${e.type}:${e.factor}`),
      ['message_sent:sms', 'failed:sms', 'enrolled:sms'],
    );
    await agent
      .post('/auth/mfa/sms/confirm')
      .send({ code: lastCode(t.sms) })
      .expect(403); // nothing pending
  });

  test('needs a fresh MFA when another factor exists, and then issues no second set of backup codes', async () => {
    const t = await makeCodeApp(redis.client());
    const agent = await t.signIn('dee');
    await verifyByEmail(agent, t.email);
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(5 * 60_000 + 1);
    const stale = await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(401);
    assert.equal(stale.body.error, 'mfa_expired');
    assert.deepEqual(stale.body.factors, ['totp', 'email', 'backup_codes']);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(200);
    const code = lastCode(t.sms);
    t.clock.advance(5 * 60_000 - 1000);
    const res = await agent.post('/auth/mfa/sms/confirm').send({ code }).expect(200);
    assert.equal(res.body.backupCodes, undefined);
    assert.deepEqual((await agent.get('/auth/mfa/').expect(200)).body.factors, [
      'totp',
      'sms',
      'email',
      'backup_codes',
    ]);
    // The user hears about it by email.
    const notice = t.email.messages()[0]!;
    assert.match(notice.subject!, /security notice/);
    assert.match(notice.text, /\+\*{7}2671 can now receive sign-in codes/);
  });

  test('a recovery session may bind a number without a fresh MFA and is not elevated', async () => {
    const t = await makeCodeApp(redis.client());
    const owner = await t.signIn('eli');
    await verifyByEmail(owner, t.email);
    await enrolTotp(owner, t.clock);
    const agent = supertest.agent(t.app);
    await agent.post('/test/recovery').send({ id: 'eli' }).expect(200);
    await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(200);
    const res = await agent
      .post('/auth/mfa/sms/confirm')
      .send({ code: lastCode(t.sms) })
      .expect(200);
    assert.equal(res.body.backupCodes, undefined, 'the account still has its codes');
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.equal(status.body.verifiedAt, null);
    assert.ok(status.body.recovery);
    assert.equal((await agent.get('/guarded').expect(403)).body.error, 'recovery_only');
    for (const path of ['/sms/send', '/sms/verify']) {
      await agent
        .post(`/auth/mfa${path}`)
        .send({ code: '123456' })
        .expect((r) => assert.ok([400, 403].includes(r.status)));
    }
    assert.equal((await agent.delete('/auth/mfa/sms').send({}).expect(403)).body.error, 'recovery_only');
  });

  test('parallel confirms of one code: exactly one binds', async () => {
    const t = await smsOnly();
    const agent = await t.signIn('fox');
    await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(200);
    const code = lastCode(t.sms);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => agent.post('/auth/mfa/sms/confirm').send({ code })),
    );
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, results.map((r) => r.status).join(','));
    assert.equal(ok[0]!.body.backupCodes.length, 10);
    assert.equal(t.events.filter((e) => e.type === 'enrolled').length, 1);
  });
});

describe('SMS as a second factor', () => {
  async function boundUser(id: string) {
    const t = await smsOnly();
    const agent = await t.signIn(id);
    await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(200);
    await agent
      .post('/auth/mfa/sms/confirm')
      .send({ code: lastCode(t.sms) })
      .expect(200);
    t.clock.advance(60_000);
    return { t, fresh: await t.signIn(id) };
  }

  test('send and verify: the code goes to the bound number and elevates the session', async () => {
    const { t, fresh } = await boundUser('gia');
    await fresh.get('/guarded').expect(401);
    const sent = await fresh.post('/auth/mfa/sms/send').send({}).expect(200);
    assert.equal(sent.body.sentTo, '+*******2671');
    assert.equal(t.sms.messages()[0]!.to, '+14155552671');
    assert.match(t.sms.messages()[0]!.text, /is your Acme verification code/);
    await fresh
      .post('/auth/mfa/sms/verify')
      .send({ code: lastCode(t.sms) })
      .expect(200);
    await fresh.get('/guarded').expect(200);
  });

  test("strangers typing the owner's number into /sms/setup cannot use up the owner's sign-in sends", async () => {
    const t = await smsOnly({ codes: { maxSendsPerDestinationPerHour: 2, resendCooldownMs: 1000 } });
    const owner = await t.signIn('own');
    await owner.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(200);
    await owner
      .post('/auth/mfa/sms/confirm')
      .send({ code: lastCode(t.sms) })
      .expect(200);
    for (const stranger of ['s1', 's2']) {
      const agent = await t.signIn(stranger);
      const res = await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' });
      assert.ok(res.status === 200 || res.status === 429, `${res.status}`);
    }
    const late = await t.signIn('s3');
    const capped = await late.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(429);
    assert.match(capped.body.message, /sent to this address/);
    t.clock.advance(60_000);
    const fresh = await t.signIn('own');
    await fresh.post('/auth/mfa/sms/send').send({}).expect(200);
    await fresh
      .post('/auth/mfa/sms/verify')
      .send({ code: lastCode(t.sms) })
      .expect(200);
  });

  test('changing the number is binding a new one; codes for the old number stop working', async () => {
    const { t, fresh } = await boundUser('hap');
    await fresh.post('/auth/mfa/sms/send').send({}).expect(200);
    const forOld = lastCode(t.sms);
    const other = await t.signIn('hap');
    await other.post('/auth/mfa/sms/setup').send({ phone: '+15105550123' }).expect(401);
    t.clock.advance(30_000);
    await other.post('/auth/mfa/sms/send').send({}).expect(200);
    await other
      .post('/auth/mfa/sms/verify')
      .send({ code: lastCode(t.sms) })
      .expect(200);
    t.clock.advance(30_000);
    await other.post('/auth/mfa/sms/setup').send({ phone: '+15105550123' }).expect(200);
    await other
      .post('/auth/mfa/sms/confirm')
      .send({ code: lastCode(t.sms) })
      .expect(200);
    assert.equal((await other.get('/auth/mfa/sms').expect(200)).body.phone, '+*******0123');
    await fresh.post('/auth/mfa/sms/verify').send({ code: forOld }).expect(401);
  });

  test('confirm and verify failures count toward one SMS lock', async () => {
    const { t, fresh } = await boundUser('ivo');
    await fresh.post('/auth/mfa/sms/send').send({}).expect(200);
    const code = lastCode(t.sms);
    for (let i = 0; i < 5; i++)
      await fresh
        .post('/auth/mfa/sms/verify')
        .send({ code: otherCode(code) })
        .expect(401);
    await fresh.post('/auth/mfa/sms/verify').send({ code }).expect(429);
  });

  test('DELETE /sms needs a fresh MFA, removes the number and, with it the last factor, the backup codes', async () => {
    const { t, fresh } = await boundUser('jem');
    assert.equal((await fresh.delete('/auth/mfa/sms').send({}).expect(401)).body.error, 'mfa_required');
    await fresh.post('/auth/mfa/sms/send').send({}).expect(200);
    await fresh
      .post('/auth/mfa/sms/verify')
      .send({ code: lastCode(t.sms) })
      .expect(200);
    await fresh.delete('/auth/mfa/sms').send({}).expect(200);
    const status = await fresh.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, []);
    assert.equal(status.body.backupCodes.remaining, 0);
    assert.ok(t.events.some((e) => e.type === 'factor_removed' && e.factor === 'sms'));
    assert.equal((await fresh.post('/auth/mfa/sms/send').send({}).expect(403)).body.error, 'not_enrolled');
    assert.equal((await fresh.delete('/auth/mfa/sms').send({}).expect(403)).body.error, 'not_enrolled');
  });

  test('without an SMS sender the routes are 404', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('kit');
    await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(404);
    await agent.get('/auth/mfa/sms').expect(404);
  });
});
