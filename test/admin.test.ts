import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { lastCode } from './factors/email-sms/helpers.js';
import { enrolTotpFresh, makeRecoveryApp } from './factors/recovery/helpers.js';
import { makeWebAuthnApp, newAuthenticator, registerPasskey } from './factors/webauthn/webauthn-test-app.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { enrolTotp, makeTestApp, totpCode, wrongCode } from './helpers/test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

describe('mfa.admin', () => {
  test('factors: each factor with its details and lock, nothing secret', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const agent = await t.signIn('ada');
    const enrolledAt = t.clock.now();
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(1000);
    const { res } = await registerPasskey(agent, newAuthenticator(), { name: 'Phone' });
    t.clock.advance(60_000);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: wrongCode(secret, t.clock) })
      .expect(401);

    const factors = await t.mfa.admin.factors('ada');
    assert.deepEqual(factors, [
      { factor: 'totp', createdAt: enrolledAt, failures: 1, lockedUntil: null },
      {
        factor: 'webauthn',
        createdAt: enrolledAt + 1000,
        failures: 0,
        lockedUntil: null,
        passkeys: [res.body.passkey],
      },
      { factor: 'backup_codes', createdAt: null, failures: 0, lockedUntil: null, remaining: 10 },
    ]);
    assert.ok(!JSON.stringify(factors).includes(secret));
    assert.deepEqual(await t.mfa.admin.factors('nobody'), []);
  });

  test('factors: SMS shows the number masked; email is listed when given the user object', async () => {
    const t = await makeRecoveryApp(redis.client());
    const agent = await t.signIn('bob');
    await enrolTotpFresh(t, agent);
    await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(200);
    await agent
      .post('/auth/mfa/sms/confirm')
      .send({ code: lastCode(t.sms) })
      .expect(200);
    const byId = await t.mfa.admin.factors('bob');
    assert.deepEqual(
      byId.map((f) => f.factor),
      ['totp', 'sms', 'backup_codes'],
    );
    assert.equal(byId[1]!.phone, '+*******2671');
    assert.equal(typeof byId[1]!.createdAt, 'number');
    const withUser = await t.mfa.admin.factors({ id: 'bob', email: 'bob@example.com' });
    assert.deepEqual(withUser[2], {
      factor: 'email',
      createdAt: null,
      failures: 0,
      lockedUntil: null,
      email: 'b***@example.com',
    });
  });

  test('removeFactor: removes one factor (backup codes with the last), reports it, notifies when it can', async () => {
    const t = await makeRecoveryApp(redis.client());
    const agent = await t.signIn('cyd');
    const { secret } = await enrolTotpFresh(t, agent);
    const before = t.email.messages().length;

    assert.equal(await t.mfa.admin.removeFactor({ id: 'cyd', email: 'cyd@example.com' }, 'totp'), true);
    assert.equal(await t.mfa.admin.removeFactor('cyd', 'totp'), false, 'already gone');
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, ['email'], 'the last factor took the backup codes with it');
    t.clock.advance(60_000);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(403);

    const removed = t.events.filter((e) => e.type === 'factor_removed');
    assert.equal(removed.length, 1);
    assert.deepEqual(
      { ...removed[0], at: 0 },
      { type: 'factor_removed', factor: 'totp', by: 'admin', userId: 'cyd', ip: undefined, at: 0 },
    );
    assert.equal(t.email.messages().length, before + 1);
    assert.match(t.email.messages()[0]!.text, /An authenticator app was removed from your account/);
  });

  test('removeFactor refuses email and unknown factors; bad ids are TypeErrors', async () => {
    const t = await makeTestApp(redis.client());
    await assert.rejects(t.mfa.admin.removeFactor('ada', 'email'), /implicit factor/);
    await assert.rejects(t.mfa.admin.removeFactor('ada', 'password' as never), TypeError);
    await assert.rejects(t.mfa.admin.removeFactor('', 'totp'), TypeError);
    await assert.rejects(t.mfa.admin.factors({ id: 3.5 } as never), TypeError);
    await assert.rejects(t.mfa.admin.factors({ id: '' }), TypeError);
    await assert.rejects(t.mfa.admin.unlock('ada', 'nope' as never), TypeError);
  });

  test('resetUser: every factor and lock gone, returned and reported once', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const agent = await t.signIn('dee');
    const { secret } = await enrolTotp(agent, t.clock);
    await registerPasskey(agent, newAuthenticator());
    t.clock.advance(60_000);
    for (let i = 0; i < 5; i++) {
      await agent
        .post('/auth/mfa/totp/verify')
        .send({ code: wrongCode(secret, t.clock, i) })
        .expect(401);
    }
    assert.deepEqual(await t.mfa.admin.resetUser('dee'), ['totp', 'webauthn', 'backup_codes']);
    assert.deepEqual(await t.mfa.admin.factors('dee'), []);
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual([status.body.factors, status.body.locks, status.body.passkeys], [[], {}, []]);
    const reset = t.events.filter((e) => e.type === 'factors_reset');
    assert.deepEqual(
      reset.map((e) => e.type === 'factors_reset' && [e.userId, e.removed, e.by]),
      [['dee', ['totp', 'webauthn', 'backup_codes'], 'admin']],
    );
    // Setting up again works at once: no stale lock.
    await enrolTotp(agent, t.clock);
  });

  test('unlock: clears one factor lock, or all', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('eli');
    const { secret, backupCodes } = await enrolTotp(agent, t.clock);
    t.clock.advance(60_000);
    for (let i = 0; i < 5; i++) {
      await agent
        .post('/auth/mfa/totp/verify')
        .send({ code: wrongCode(secret, t.clock, i) })
        .expect(401);
      await agent.post('/auth/mfa/backup-codes/verify').send({ code: 'wrong' }).expect(401);
    }
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(429);
    await t.mfa.admin.unlock('eli', 'totp');
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    await agent.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] }).expect(429);
    await t.mfa.admin.unlock('eli');
    await agent.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] }).expect(200);
    assert.deepEqual(
      t.events.filter((e) => e.type === 'unlocked').map((e) => e.type === 'unlocked' && e.factors),
      [['totp'], ['totp', 'webauthn', 'sms', 'email', 'backup_codes']],
    );
  });
});
