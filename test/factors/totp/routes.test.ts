import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKeyring } from '../../../lib/crypto.js';
import { keys } from '../../../lib/keys.js';
import { COINCIDING } from '../../helpers/coinciding-codes.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { enrolTotp, makeTestApp, SECRET, totpCode, wrongCode } from '../../helpers/test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

describe('POST /totp/setup', () => {
  test('returns a 160-bit secret, an otpauth URI and a PNG QR code, uncached', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('ada');
    const res = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    assert.match(res.body.secret, /^[A-Z2-7]{32}$/);
    assert.ok(res.body.uri.startsWith('otpauth://totp/Acme:ada%40example.com?'));
    assert.ok(res.body.uri.includes(`secret=${res.body.secret}`));
    assert.ok(res.body.qrCode.startsWith('data:image/png;base64,'));
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  test('keeps the pending secret encrypted in the store, never in the session', async () => {
    const client = redis.client();
    const t = await makeTestApp(client, { prefix: 'enc:' });
    const agent = await t.signIn('bob');
    const { body } = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    const keys = await client.keys('enc:*');
    for (const key of keys) {
      const type = await client.type(key);
      const value = type === 'string' ? await client.get(key) : JSON.stringify(await client.smembers(key));
      assert.ok(!value?.includes(body.secret), `${key} holds the secret in clear`);
    }
    const pending = keys.find((k) => k.endsWith(':totp:pending'));
    assert.ok(pending, 'pending secret stored');
    const ttl = await client.pttl(pending);
    assert.ok(ttl > 0 && ttl <= 10 * 60 * 1000, `pending TTL ${ttl}`);
  });

  test('needs a signed-in user', async () => {
    const t = await makeTestApp(redis.client());
    const res = await (await import('supertest'))
      .default(t.app)
      .post('/auth/mfa/totp/setup')
      .send({})
      .expect(401);
    assert.equal(res.body.error, 'unauthenticated');
  });

  test('refuses a second authenticator with 409', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('cyd');
    await enrolTotp(agent, t.clock);
    const res = await agent.post('/auth/mfa/totp/setup').send({}).expect(409);
    assert.equal(res.body.error, 'already_enrolled');
  });
});

describe('POST /totp/confirm', () => {
  test('activates TOTP, returns 10 backup codes once, and elevates the session', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('dee');
    await agent.get('/guarded').expect(403);
    const { backupCodes } = await enrolTotp(agent, t.clock);
    assert.equal(backupCodes.length, 10);
    for (const code of backupCodes) assert.match(code, /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
    await agent.get('/guarded').expect(200);
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, ['totp', 'backup_codes']);
    assert.equal(status.body.backupCodes.remaining, 10);
    assert.equal(t.events.find((e) => e.type === 'enrolled')?.factor, 'totp');
  });

  test('a wrong code is 401 invalid_code and leaves TOTP off', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('eve');
    const { body } = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    const wrong = wrongCode(body.secret, t.clock);
    const res = await agent.post('/auth/mfa/totp/confirm').send({ code: wrong }).expect(401);
    assert.equal(res.body.error, 'invalid_code');
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, []);
  });

  test('without a setup, or after the pending secret expired, is 403 not_enrolled', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('fay');
    const none = await agent.post('/auth/mfa/totp/confirm').send({ code: '123456' }).expect(403);
    assert.equal(none.body.error, 'not_enrolled');
    const { body } = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    t.clock.advance(10 * 60 * 1000 + 1);
    const late = await agent
      .post('/auth/mfa/totp/confirm')
      .send({ code: totpCode(body.secret, t.clock) })
      .expect(403);
    assert.equal(late.body.error, 'not_enrolled');
  });

  test('a second setup replaces the pending secret', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('gil');
    const first = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    const second = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    await agent
      .post('/auth/mfa/totp/confirm')
      .send({ code: totpCode(first.body.secret, t.clock) })
      .expect(401);
    await agent
      .post('/auth/mfa/totp/confirm')
      .send({ code: totpCode(second.body.secret, t.clock) })
      .expect(200);
  });
});

describe('POST /totp/verify', () => {
  test('accepts the current code and the neighbouring steps, refuses two steps away', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('hal');
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(5 * 60_000);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock, -60_000) })
      .expect(401);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock, -30_000) })
      .expect(200);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock, 30_000) })
      .expect(200);
  });

  test('normalises spaces and dashes', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('ike');
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(60_000);
    const code = totpCode(secret, t.clock);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: ` ${code.slice(0, 3)} -${code.slice(3)} ` })
      .expect(200);
  });

  test('a replayed code fails, and so does any earlier step, with the same answer as a wrong code', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('jan');
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(60_000);
    const next = totpCode(secret, t.clock, 30_000);
    await agent.post('/auth/mfa/totp/verify').send({ code: next }).expect(200);
    const replay = await agent.post('/auth/mfa/totp/verify').send({ code: next }).expect(401);
    const earlier = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(401);
    const wrong = await agent.post('/auth/mfa/totp/verify').send({ code: wrongCode(secret, t.clock) });
    assert.deepEqual(replay.body, wrong.body);
    assert.deepEqual(earlier.body, wrong.body);
  });

  test("a code that is also the previous step's is taken for the current step, not refused as a replay", async () => {
    const client = redis.client();
    const t = await makeTestApp(client, { prefix: 'coincide:' });
    // The user's authenticator holds a key whose codes for two neighbouring steps coincide.
    const keyring = createKeyring([SECRET]);
    const record = { secret: keyring.encrypt(COINCIDING.secret, 'totp:kim'), createdAt: 0 };
    await client.set(`coincide:mfa:${keys.totp('kim')}`, JSON.stringify(record));
    const agent = await t.signIn('kim');
    t.clock.set((COINCIDING.step * 30 + 5) * 1000);
    await agent.post('/auth/mfa/totp/verify').send({ code: COINCIDING.code }).expect(200);
    // Next step: the app shows the same digits, now as that step's code.
    t.clock.advance(30_000);
    await agent.post('/auth/mfa/totp/verify').send({ code: COINCIDING.code }).expect(200);
    // Both steps are used now: the digits are refused within the window from then on, as a wrong code is.
    const replay = await agent.post('/auth/mfa/totp/verify').send({ code: COINCIDING.code }).expect(401);
    const wrong = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: wrongCode(COINCIDING.secret, t.clock) })
      .expect(401);
    assert.deepEqual(replay.body, wrong.body);
  });

  test('a replay fails from another session and another app instance sharing Redis', async () => {
    const client = redis.client();
    const a = await makeTestApp(client, { prefix: 'shared:' });
    const b = await makeTestApp(client, { prefix: 'shared:' });
    b.clock.set(a.clock.now());
    const first = await a.signIn('kim');
    const { secret } = await enrolTotp(first, a.clock);
    a.clock.advance(60_000);
    b.clock.set(a.clock.now());
    const code = totpCode(secret, a.clock);
    await first.post('/auth/mfa/totp/verify').send({ code }).expect(200);
    const second = await b.signIn('kim');
    await second.post('/auth/mfa/totp/verify').send({ code }).expect(401);
  });

  test('20 concurrent submissions of one code: exactly one succeeds', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('lou');
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(60_000);
    const code = totpCode(secret, t.clock);
    const agents = await Promise.all(Array.from({ length: 20 }, () => t.signIn('lou')));
    const results = await Promise.all(agents.map((a) => a.post('/auth/mfa/totp/verify').send({ code })));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
    assert.ok(
      statuses.every((s) => s === 200 || s === 401 || s === 429),
      statuses.join(','),
    );
  });

  test('not enrolled is 403; no user is 401; bad bodies are 400 and not counted', async () => {
    const t = await makeTestApp(redis.client(), { limits: { maxFailures: 2 } });
    const agent = await t.signIn('max');
    const notEnrolled = await agent.post('/auth/mfa/totp/verify').send({ code: '123456' }).expect(403);
    assert.equal(notEnrolled.body.error, 'not_enrolled');
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(60_000);
    for (const body of [
      {},
      { code: 123456 },
      { code: null },
      { code: 'x'.repeat(65) },
      [],
      '"code"',
      'null',
    ]) {
      const res = await agent
        .post('/auth/mfa/totp/verify')
        .set('Content-Type', 'application/json')
        .send(typeof body === 'string' ? body : JSON.stringify(body))
        .expect(400);
      assert.equal(res.body.error, 'invalid_request');
      assert.equal(typeof res.body.message, 'string');
    }
    // Six bad bodies with a limit of two: none was counted, so the right code still passes.
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    const supertest = (await import('supertest')).default;
    const anonymous = await supertest(t.app)
      .post('/auth/mfa/totp/verify')
      .send({ code: '123456' })
      .expect(401);
    assert.equal(anonymous.body.error, 'unauthenticated');
  });

  test('letters and other non-codes within 64 characters are a plain invalid code', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('ned');
    await enrolTotp(agent, t.clock);
    for (const code of ['abcdef', '', '1234567', '١٢٣٤٥٦']) {
      const res = await agent.post('/auth/mfa/totp/verify').send({ code });
      assert.ok(res.status === 401 || res.status === 429, `${code}: ${res.status}`);
    }
  });
});

describe('lockout', () => {
  test('after 5 failures even the right code gets 429 with Retry-After, until 15 minutes pass', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('oli');
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(60_000);
    for (let i = 0; i < 5; i++)
      await agent
        .post('/auth/mfa/totp/verify')
        .send({ code: wrongCode(secret, t.clock) })
        .expect(401);
    const locked = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(429);
    assert.equal(locked.body.error, 'too_many_attempts');
    assert.equal(locked.headers['retry-after'], String(15 * 60));
    assert.equal(locked.body.retryAfter, 15 * 60);
    assert.deepEqual(
      t.events.filter((e) => e.type === 'locked').map((e) => e.factor),
      ['totp'],
    );

    t.clock.advance(15 * 60_000 - 1000);
    const still = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(429);
    assert.equal(still.headers['retry-after'], '1');
    t.clock.advance(1000);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
  });

  test('cannot be dodged with a new session or a new setup', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('pat');
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(60_000);
    for (let i = 0; i < 5; i++)
      await agent
        .post('/auth/mfa/totp/verify')
        .send({ code: wrongCode(secret, t.clock) })
        .expect(401);
    const fresh = await t.signIn('pat');
    await fresh
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(429);

    const other = await t.signIn('quin');
    const setup = await other.post('/auth/mfa/totp/setup').send({}).expect(200);
    for (let i = 0; i < 5; i++)
      await other
        .post('/auth/mfa/totp/confirm')
        .send({ code: wrongCode(setup.body.secret, t.clock) })
        .expect(401);
    const again = await other.post('/auth/mfa/totp/setup').send({}).expect(200);
    const res = await other
      .post('/auth/mfa/totp/confirm')
      .send({ code: totpCode(again.body.secret, t.clock) });
    assert.equal(res.status, 429);
    assert.ok(setup.body.secret !== again.body.secret);
  });

  test('a success resets the count; the limit is configurable', async () => {
    const t = await makeTestApp(redis.client(), { limits: { maxFailures: 3, lockoutMs: 60_000 } });
    const agent = await t.signIn('ray');
    const { secret } = await enrolTotp(agent, t.clock);
    for (let round = 0; round < 2; round++) {
      t.clock.advance(60_000);
      for (let i = 0; i < 2; i++)
        await agent
          .post('/auth/mfa/totp/verify')
          .send({ code: wrongCode(secret, t.clock) })
          .expect(401);
      await agent
        .post('/auth/mfa/totp/verify')
        .send({ code: totpCode(secret, t.clock) })
        .expect(200);
    }
    t.clock.advance(60_000);
    for (let i = 0; i < 3; i++)
      await agent
        .post('/auth/mfa/totp/verify')
        .send({ code: wrongCode(secret, t.clock) })
        .expect(401);
    const locked = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(429);
    assert.equal(locked.headers['retry-after'], '60');
  });

  test('30 concurrent wrong guesses are counted exactly: no more than the limit get an answer', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('sam');
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(60_000);
    const codes = new Set<string>();
    for (let seed = 100_000; codes.size < 30; seed += 7) codes.add(wrongCode(secret, t.clock, seed));
    const results = await Promise.all(
      [...codes].map((code) => agent.post('/auth/mfa/totp/verify').send({ code })),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 401).length, 5, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 25, statuses.join(','));
  });
});

describe('DELETE /totp', () => {
  test('needs a fresh MFA, then removes TOTP and its backup codes', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('tia');
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(5 * 60_000 + 1);
    const stale = await agent.delete('/auth/mfa/totp').send({}).expect(401);
    assert.equal(stale.body.error, 'mfa_expired');
    assert.deepEqual(stale.body.factors, ['totp', 'backup_codes']);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    await agent.delete('/auth/mfa/totp').send({}).expect(200);
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, []);
    assert.equal(status.body.backupCodes.remaining, 0);
    assert.ok(t.events.some((e) => e.type === 'factor_removed' && e.factor === 'totp'));
    const again = await agent.delete('/auth/mfa/totp').send({}).expect(403);
    assert.equal(again.body.error, 'not_enrolled');
  });

  test('a fresh sign-in without MFA cannot remove it', async () => {
    const t = await makeTestApp(redis.client());
    const owner = await t.signIn('uma');
    await enrolTotp(owner, t.clock);
    const thief = await t.signIn('uma');
    const res = await thief.delete('/auth/mfa/totp').send({}).expect(401);
    assert.equal(res.body.error, 'mfa_required');
  });
});

describe('races and rotation', () => {
  test('parallel confirms with codes of different steps: exactly one enrols and gets backup codes', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('vic');
    const { body } = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    const codes = [-30_000, 0, 30_000].map((d) => totpCode(body.secret, t.clock, d));
    const results = await Promise.all(
      codes.map((code) => agent.post('/auth/mfa/totp/confirm').send({ code })),
    );
    const winners = results.filter((r) => r.status === 200);
    assert.equal(winners.length, 1, results.map((r) => r.status).join(','));
    assert.equal(winners[0]!.body.backupCodes.length, 10);
    const won = await agent
      .post('/auth/mfa/backup-codes/verify')
      .send({ code: winners[0]!.body.backupCodes[0] });
    assert.equal(won.status, 200, 'the codes the winner showed are the ones that work');
  });

  test('with the widest window a code still cannot be replayed after its step key would have aged out', async () => {
    const t = await makeTestApp(redis.client(), { totp: { window: 10 } });
    const agent = await t.signIn('wes');
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(60_000);
    const ahead = totpCode(secret, t.clock, 10 * 30_000);
    await agent.post('/auth/mfa/totp/verify').send({ code: ahead }).expect(200);
    t.clock.advance(601_000);
    await agent.post('/auth/mfa/totp/verify').send({ code: ahead }).expect(401);
  });

  test('after rotating `secret`, a verification moves the user to the new key so the old one can go', async () => {
    const client = redis.client();
    const old = 'the-old-secret-of-at-least-32-characters';
    const fresh = 'the-new-secret-of-at-least-32-characters';
    const before = await makeTestApp(client, { prefix: 'rot:', secret: old });
    const agent = await before.signIn('xia');
    const { secret } = await enrolTotp(agent, before.clock);
    const during = await makeTestApp(client, { prefix: 'rot:', secret: [fresh, old] });
    during.clock.set(before.clock.now() + 60_000);
    const mid = await during.signIn('xia');
    await mid
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, during.clock) })
      .expect(200);
    const after = await makeTestApp(client, { prefix: 'rot:', secret: fresh });
    after.clock.set(during.clock.now() + 60_000);
    const late = await after.signIn('xia');
    await late
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, after.clock) })
      .expect(200);
  });
});
