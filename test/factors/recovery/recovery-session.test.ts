import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { totpCode } from '../../helpers/test-app.js';
import { lastCode } from '../email-sms/helpers.js';
import { newAuthenticator, ORIGIN, RP_ID, registerPasskey } from '../webauthn/webauthn-test-app.js';
import { enrolTotpFresh, makeRecoveryApp, recover } from './helpers.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

const withPasskeys = { webauthn: { rpId: RP_ID, rpName: 'Acme', origin: ORIGIN } };

describe('a recovery session', () => {
  test('may only enrol: TOTP, SMS, passkeys and backup codes, without a fresh MFA and without elevation', async () => {
    const t = await makeRecoveryApp(redis.client(), withPasskeys);
    const owner = await t.signIn('ada');
    await enrolTotpFresh(t, owner);
    const { agent } = await recover(t, 'ada@example.com');

    const setup = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    assert.match(
      setup.body.uri,
      /otpauth:\/\/totp\/Acme:ada\?/,
      'the label is the id: the session has no user object',
    );
    await agent
      .post('/auth/mfa/totp/confirm')
      .send({ code: totpCode(setup.body.secret, t.clock) })
      .expect(200);
    const { res: passkey } = await registerPasskey(agent, newAuthenticator(), { name: 'Laptop' });
    assert.equal(passkey.status, 200, JSON.stringify(passkey.body));
    await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(200);
    await agent
      .post('/auth/mfa/sms/confirm')
      .send({ code: lastCode(t.sms) })
      .expect(200);
    const codes = await agent.post('/auth/mfa/backup-codes').send({}).expect(200);
    assert.equal(codes.body.backupCodes.length, 10);

    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, ['totp', 'webauthn', 'sms', 'backup_codes']);
    assert.equal(status.body.verifiedAt, null);
    assert.equal(status.body.verified, false);
    assert.equal(status.body.passkeys[0].name, 'Laptop');
    assert.equal((await agent.get('/guarded').expect(403)).body.error, 'recovery_only');
    assert.equal((await agent.get('/guarded-once').expect(403)).body.error, 'recovery_only');
  });

  test('cannot verify, remove factors or read anything but the status', async () => {
    const t = await makeRecoveryApp(redis.client(), withPasskeys);
    t.addUser('bob');
    const { agent } = await recover(t, 'bob@example.com');
    const { res } = await registerPasskey(agent, newAuthenticator());
    const id = res.body.passkey.id;
    const refused: [string, string, object?][] = [
      ['post', '/totp/verify', { code: '123456' }],
      ['delete', '/totp', {}],
      ['post', '/backup-codes/verify', { code: 'aaaa-aaaa-aaaa-aaaa' }],
      ['post', '/email/send', {}],
      ['post', '/email/verify', { code: '123456' }],
      ['get', '/sms'],
      ['post', '/sms/send', {}],
      ['post', '/sms/verify', { code: '123456' }],
      ['delete', '/sms', {}],
      ['post', '/webauthn/verify/options', {}],
      ['get', '/webauthn/credentials'],
      ['patch', `/webauthn/credentials/${id}`, { name: 'x' }],
      ['delete', `/webauthn/credentials/${id}`, { confirmLastFactor: true }],
    ];
    for (const [method, path, body] of refused) {
      const request = (agent as unknown as Record<string, (p: string) => import('supertest').Test>)[method]!(
        `/auth/mfa${path}`,
      );
      const answer = body ? await request.send(body) : await request;
      assert.equal(answer.status, 403, `${method} ${path}: ${answer.status}`);
      assert.equal(answer.body.error, 'recovery_only', `${method} ${path}`);
    }
    assert.equal((await agent.get('/auth/mfa/').expect(200)).body.passkeys.length, 1);
  });

  test('expires by the injected clock after 15 minutes; then it is nobody', async () => {
    const t = await makeRecoveryApp(redis.client());
    t.addUser('cyd');
    const { agent, res } = await recover(t, 'cyd@example.com');
    t.clock.advance(15 * 60_000);
    assert.deepEqual((await agent.get('/auth/mfa/').expect(200)).body.recovery, res.body.recovery);
    t.clock.advance(1);
    assert.equal((await agent.get('/auth/mfa/').expect(401)).body.error, 'unauthenticated');
    assert.equal(
      (await agent.post('/auth/mfa/totp/setup').send({}).expect(401)).body.error,
      'unauthenticated',
    );
    assert.equal((await agent.get('/guarded').expect(401)).body.error, 'unauthenticated');
  });

  test('enrolments in it are reported as events; the recovery notice is the one email', async () => {
    const t = await makeRecoveryApp(redis.client());
    t.addUser('dee');
    const { agent } = await recover(t, 'dee@example.com');
    const before = t.email.messages().length;
    const setup = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    await agent
      .post('/auth/mfa/totp/confirm')
      .send({ code: totpCode(setup.body.secret, t.clock) })
      .expect(200);
    assert.equal(t.events.at(-1)?.type, 'enrolled');
    // The session knows only the user id, not the address: the recovery notice already told the owner.
    assert.equal(t.email.messages().length, before);
  });
});
