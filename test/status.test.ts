import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import supertest from 'supertest';
import { makeRecoveryApp, recover } from './factors/recovery/helpers.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { enrolAndVerifyTotp, enrolTotp, makeTestApp, wrongCode } from './helpers/test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

describe('GET / (status)', () => {
  test('verified and verifiedUntil follow the guard rule for ?maxAgeMs (default freshMaxAgeMs)', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('ada');
    await enrolAndVerifyTotp(agent, t.clock);
    const at = t.clock.now();
    const status = (query = '') => agent.get(`/auth/mfa/${query}`).expect(200);

    let res = await status();
    assert.equal(res.body.verifiedAt, at);
    assert.equal(res.body.verified, true);
    assert.equal(res.body.verifiedUntil, at + 5 * 60_000);
    res = await status('?maxAgeMs=60000');
    assert.equal(res.body.verifiedUntil, at + 60_000);

    t.clock.advance(60_001);
    res = await status('?maxAgeMs=60000');
    assert.equal(res.body.verified, false);
    assert.equal(res.body.verifiedUntil, null);
    assert.equal(res.body.verifiedAt, at, 'when it happened is still known');
    await agent.get('/guarded').expect(200); // the guard's 5 minutes: still verified
    res = await status();
    assert.equal(res.body.verifiedUntil, at + 5 * 60_000);
    res = await status('?maxAgeMs=0');
    assert.equal(res.body.verified, false);

    // A fresh sign-in: not verified at all.
    const other = await t.signIn('ada');
    res = await other.get('/auth/mfa/').expect(200);
    assert.deepEqual([res.body.verifiedAt, res.body.verified, res.body.verifiedUntil], [null, false, null]);
  });

  test('?maxAgeMs must be whole milliseconds: anything else is a 400 before anything else', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('bob');
    for (const query of ['abc', '-1', '1.5', '1e3', '', 'Infinity', '9'.repeat(16), '1&maxAgeMs=2']) {
      const res = await agent.get(`/auth/mfa/?maxAgeMs=${query}`).expect(400);
      assert.equal(res.body.error, 'invalid_request');
      assert.match(res.body.message, /maxAgeMs/);
    }
    await supertest(t.app).get('/auth/mfa/?maxAgeMs=x').expect(400);
    await supertest(t.app).get('/auth/mfa/?maxAgeMs=1000').expect(401);
  });

  test('backup codes: remaining, and low under 3 (only with a factor to back up)', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('cyd');
    assert.deepEqual((await agent.get('/auth/mfa/').expect(200)).body.backupCodes, {
      remaining: 0,
      low: false,
    });
    const { backupCodes } = await enrolTotp(agent, t.clock);
    assert.deepEqual((await agent.get('/auth/mfa/').expect(200)).body.backupCodes, {
      remaining: 10,
      low: false,
    });
    for (const code of backupCodes.slice(0, 7)) {
      await agent.post('/auth/mfa/backup-codes/verify').send({ code }).expect(200);
    }
    assert.deepEqual((await agent.get('/auth/mfa/').expect(200)).body.backupCodes, {
      remaining: 3,
      low: false,
    });
    await agent.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[7] }).expect(200);
    assert.deepEqual((await agent.get('/auth/mfa/').expect(200)).body.backupCodes, {
      remaining: 2,
      low: true,
    });
  });

  test('locks: per factor, active or not and until when, by the injected clock', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('dee');
    const { secret } = await enrolTotp(agent, t.clock);
    let res = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(res.body.locks, {
      totp: { locked: false, until: null, failures: 0 },
      backup_codes: { locked: false, until: null, failures: 0 },
    });
    t.clock.advance(60_000);
    for (let i = 0; i < 2; i++) {
      await agent
        .post('/auth/mfa/totp/verify')
        .send({ code: wrongCode(secret, t.clock, i) })
        .expect(401);
    }
    res = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(res.body.locks.totp, { locked: false, until: null, failures: 2 });
    for (let i = 2; i < 5; i++) {
      await agent
        .post('/auth/mfa/totp/verify')
        .send({ code: wrongCode(secret, t.clock, i) })
        .expect(401);
    }
    const lockedAt = t.clock.now();
    res = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(res.body.locks.totp, { locked: true, until: lockedAt + 15 * 60_000, failures: 5 });
    assert.equal(res.body.locks.backup_codes.locked, false, 'each factor has its own');
    t.clock.advance(15 * 60_000);
    res = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(res.body.locks.totp, { locked: false, until: null, failures: 0 });
  });

  test('a locked factor the user does not have yet is listed too (a setup that failed too often)', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('eve');
    const { body } = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    for (let i = 0; i < 5; i++) {
      await agent
        .post('/auth/mfa/totp/confirm')
        .send({ code: wrongCode(body.secret, t.clock, i) })
        .expect(401);
    }
    const res = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(res.body.factors, []);
    assert.equal(res.body.locks.totp.locked, true);
  });

  test('a recovery session: its end, no verification, and the factors it has enrolled so far', async () => {
    const t = await makeRecoveryApp(redis.client());
    t.addUser('fay');
    const { agent, res } = await recover(t, 'fay@example.com');
    const status = await agent.get('/auth/mfa/?maxAgeMs=999999999').expect(200);
    assert.deepEqual(status.body, {
      userId: 'fay',
      factors: [],
      totp: { enrolled: false },
      backupCodes: { remaining: 0, low: false },
      locks: {},
      verifiedAt: null,
      verified: false,
      verifiedUntil: null,
      phishingResistant: [],
      recovery: { until: res.body.recovery.until },
      signIn: null,
      pending: { totpSetup: null, phoneSetup: null, emailCode: null, smsCode: null },
    });
  });
});
