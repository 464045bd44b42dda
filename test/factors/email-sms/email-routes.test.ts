import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import supertest from 'supertest';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { makeTestApp, totpCode } from '../../helpers/test-app.js';
import { lastCode, makeCodeApp, otherCode, verifyByEmail } from './helpers.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

describe('email, the implicit factor', () => {
  test('a user with an address has it: it is listed, satisfies the guard, and brings no backup codes', async () => {
    const t = await makeCodeApp(redis.client());
    const agent = await t.signIn('ada');
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, ['email']);
    const refused = await agent.get('/guarded').expect(401);
    assert.equal(refused.body.error, 'mfa_required');
    assert.deepEqual(refused.body.factors, ['email']);

    const sent = await agent.post('/auth/mfa/email/send').send({}).expect(200);
    assert.equal(sent.body.sentTo, 'a***@example.com');
    assert.equal(sent.body.expiresAt, t.clock.now() + 5 * 60_000);
    assert.equal(sent.body.resendAfter, 30);
    const [mail] = t.email.messages();
    assert.equal(mail!.to, 'ada@example.com');
    assert.match(mail!.subject!, /Acme/);
    assert.match(mail!.text, /expires in 5 minutes/);
    const code = lastCode(t.email);
    assert.match(code, /^\d{6}$/);

    const verified = await agent.post('/auth/mfa/email/verify').send({ code }).expect(200);
    assert.equal(verified.body.verifiedAt, t.clock.now());
    await agent.get('/guarded').expect(200);
    const after = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(after.body.factors, ['email']);
    assert.equal(after.body.backupCodes.remaining, 0);
    assert.deepEqual(
      t.events.map((e) => `${e.type}:${e.factor}`),
      ['message_sent:email', 'verified:email'],
    );
    assert.deepEqual(t.events[0], { ...t.events[0], purpose: 'sign_in', to: 'a***@example.com' });
  });

  test('email alone cannot mint backup codes, even right after an email step-up', async () => {
    const t = await makeCodeApp(redis.client());
    const agent = await t.signIn('eli');
    await verifyByEmail(agent, t.email);
    const res = await agent.post('/auth/mfa/backup-codes').send({}).expect(403);
    assert.equal(res.body.error, 'not_enrolled');
  });

  test('the request cannot choose the address', async () => {
    const t = await makeCodeApp(redis.client());
    const agent = await t.signIn('bea');
    await agent.post('/auth/mfa/email/send').send({ to: 'thief@evil.test', email: 'thief@evil.test' });
    assert.deepEqual(
      t.email.messages().map((m) => m.to),
      ['bea@example.com'],
    );
  });

  test('without a sender email is off: no factor, and the routes are 404', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('cal');
    assert.deepEqual((await agent.get('/auth/mfa/').expect(200)).body.factors, []);
    assert.equal((await agent.post('/auth/mfa/email/send').send({}).expect(404)).body.error, 'not_found');
    // TOTP needs no fresh MFA for a user with no factor at all, as before.
    await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
  });

  test('a user without a usable address does not have it', async () => {
    const t = await makeCodeApp(redis.client());
    for (const email of ['', 'no-at-sign', 'two\nlines@example.com']) {
      const agent = await t.signIn(`dan-${email.length}`, email);
      assert.deepEqual((await agent.get('/auth/mfa/').expect(200)).body.factors, []);
      const res = await agent.post('/auth/mfa/email/send').send({}).expect(403);
      assert.equal(res.body.error, 'not_enrolled');
    }
    assert.deepEqual(t.email.messages(), []);
  });

  test('it counts for "changing factors needs a fresh MFA"; backup codes come with the first real factor only', async () => {
    const t = await makeCodeApp(redis.client());
    const agent = await t.signIn('eve');
    const stale = await agent.post('/auth/mfa/totp/setup').send({}).expect(401);
    assert.equal(stale.body.error, 'mfa_required');
    assert.deepEqual(stale.body.factors, ['email']);
    await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(401);

    await verifyByEmail(agent, t.email);
    const setup = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    const confirm = await agent
      .post('/auth/mfa/totp/confirm')
      .send({ code: totpCode(setup.body.secret, t.clock) })
      .expect(200);
    assert.equal(confirm.body.backupCodes.length, 10);
    assert.deepEqual((await agent.get('/auth/mfa/').expect(200)).body.factors, [
      'totp',
      'email',
      'backup_codes',
    ]);

    // Removing the last enrolled factor removes the backup codes: email does not keep them.
    await agent.delete('/auth/mfa/totp').send({}).expect(200);
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, ['email']);
    assert.equal(status.body.backupCodes.remaining, 0);
  });

  test('a recovery session cannot use email codes', async () => {
    const t = await makeCodeApp(redis.client());
    const agent = supertest.agent(t.app);
    await agent.post('/test/recovery').send({ id: 'fay' }).expect(200);
    const res = await agent.post('/auth/mfa/email/send').send({}).expect(403);
    assert.equal(res.body.error, 'recovery_only');
    await agent.post('/auth/mfa/email/verify').send({ code: '123456' }).expect(403);
  });
});

describe('email codes', () => {
  test('expire after 5 minutes by the injected clock; the lifetime is configurable', async () => {
    const t = await makeCodeApp(redis.client());
    const agent = await t.signIn('gus');
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    t.clock.advance(5 * 60_000);
    const late = await agent
      .post('/auth/mfa/email/verify')
      .send({ code: lastCode(t.email) })
      .expect(401);
    assert.equal(late.body.error, 'invalid_code');

    const short = await makeCodeApp(redis.client(), { codes: { ttlMs: 60_000, length: 8 } });
    const other = await short.signIn('gus');
    const sent = await other.post('/auth/mfa/email/send').send({}).expect(200);
    assert.equal(sent.body.expiresAt, short.clock.now() + 60_000);
    assert.match(short.email.messages()[0]!.text, /expires in 1 minute\b/);
    const code = lastCode(short.email);
    assert.match(code, /^\d{8}$/);
    short.clock.advance(59_999);
    await other
      .post('/auth/mfa/email/verify')
      .send({ code: `${code.slice(0, 4)} ${code.slice(4)}` })
      .expect(200);
  });

  test('work once, only in the session that asked, and a new send voids the old code', async () => {
    const t = await makeCodeApp(redis.client());
    const agent = await t.signIn('hal');
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    const first = lastCode(t.email);
    const elsewhere = await t.signIn('hal');
    await elsewhere.post('/auth/mfa/email/verify').send({ code: first }).expect(401);

    t.clock.advance(30_000);
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    const second = lastCode(t.email);
    if (first !== second) await agent.post('/auth/mfa/email/verify').send({ code: first }).expect(401);
    await agent.post('/auth/mfa/email/verify').send({ code: second }).expect(200);
    await agent.post('/auth/mfa/email/verify').send({ code: second }).expect(401);
  });

  test('20 concurrent verifications of one code: exactly one succeeds', async () => {
    const t = await makeCodeApp(redis.client());
    const agent = await t.signIn('ida');
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    const code = lastCode(t.email);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => agent.post('/auth/mfa/email/verify').send({ code })),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
    assert.ok(
      statuses.every((s) => s === 200 || s === 401 || s === 429),
      statuses.join(','),
    );
  });

  test('bad bodies are 400 and not counted; the code is a JSON string', async () => {
    const t = await makeCodeApp(redis.client(), { limits: { maxFailures: 1 } });
    const agent = await t.signIn('jon');
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    for (const body of [{}, { code: 123456 }, { code: 'x'.repeat(65) }]) {
      assert.equal(
        (await agent.post('/auth/mfa/email/verify').send(body).expect(400)).body.error,
        'invalid_request',
      );
    }
    await agent.post('/auth/mfa/email/send').set('Content-Type', 'text/plain').send('{}').expect(415);
    await agent
      .post('/auth/mfa/email/verify')
      .send({ code: lastCode(t.email) })
      .expect(200);
    const anonymous = await supertest(t.app).post('/auth/mfa/email/send').send({}).expect(401);
    assert.equal(anonymous.body.error, 'unauthenticated');
  });

  test('a code survives 5 wrong tries, even when the factor limit is higher', async () => {
    const t = await makeCodeApp(redis.client(), { limits: { maxFailures: 50 } });
    const agent = await t.signIn('kay');
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    const code = lastCode(t.email);
    for (let i = 0; i < 5; i++)
      await agent
        .post('/auth/mfa/email/verify')
        .send({ code: otherCode(code) })
        .expect(401);
    await agent.post('/auth/mfa/email/verify').send({ code }).expect(401);
    t.clock.advance(30_000);
    await verifyByEmail(agent, t.email); // a new code gets its own tries
  });

  test('the factor locks after 5 failures: even a right code or a new one gets 429 until the lock ends', async () => {
    const t = await makeCodeApp(redis.client());
    const agent = await t.signIn('lee');
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    const code = lastCode(t.email);
    for (let i = 0; i < 5; i++)
      await agent
        .post('/auth/mfa/email/verify')
        .send({ code: otherCode(code) })
        .expect(401);
    const locked = await agent.post('/auth/mfa/email/verify').send({ code }).expect(429);
    assert.equal(locked.headers['retry-after'], String(15 * 60));
    t.clock.advance(60_000);
    const resend = await agent.post('/auth/mfa/email/send').send({}).expect(429);
    assert.equal(resend.body.error, 'too_many_attempts');
    assert.equal(resend.headers['retry-after'], String(14 * 60));
    assert.equal(t.email.messages().length, 1, 'no code is sent for a locked factor');
    assert.deepEqual(
      t.events.filter((e) => e.type === 'failed' || e.type === 'locked').map((e) => e.type),
      ['failed', 'failed', 'failed', 'failed', 'failed', 'locked'],
    );
    t.clock.advance(14 * 60_000);
    await verifyByEmail(agent, t.email);
  });
});
