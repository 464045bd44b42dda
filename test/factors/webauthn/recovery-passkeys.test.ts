import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import supertest from 'supertest';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { enrolTotp } from '../../helpers/test-app.js';
import {
  loginWithPasskey,
  makeWebAuthnApp,
  newAuthenticator,
  registerPasskey,
  verifyPasskey,
} from './webauthn-test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

describe('passkeys registered in a recovery session', () => {
  test('cannot sign in without a password until used once as a second factor', async () => {
    const t = await makeWebAuthnApp(redis.client());
    await enrolTotp(await t.signIn('hal'), t.clock);
    // Whoever controls the mailbox gets a recovery session and registers their own passkey.
    const recovering = supertest.agent(t.app);
    await recovering.post('/test/recovery').send({ id: 'hal' }).expect(200);
    const authenticator = newAuthenticator();
    const { res } = await registerPasskey(recovering, authenticator);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const id: string = res.body.passkey.id;

    // Mailbox control alone must not become a full, MFA-verified sign-in.
    const thief = supertest.agent(t.app);
    const refused = (await loginWithPasskey(thief, authenticator)).res;
    assert.deepEqual([refused.status, refused.body.error], [401, 'invalid_code']);
    await thief.get('/auth/mfa/').expect(401);
    await thief.get('/guarded').expect(401);
    const report = t.events.find((e) => e.type === 'passwordless_refused');
    assert.equal(report?.userId, 'hal');
    assert.equal(report?.type === 'passwordless_refused' && report.credentialId, id);
    assert.equal(report?.type === 'passwordless_refused' && report.reason, 'registered_in_recovery');

    // Once the user signs in with their password and uses it as a second factor, it is trusted.
    const user = await t.signIn('hal');
    assert.equal((await verifyPasskey(user, authenticator)).res.status, 200);
    const signedIn = (await loginWithPasskey(supertest.agent(t.app), authenticator)).res;
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    assert.equal(signedIn.body.userId, 'hal');
  });

  test('a recovery session cannot be traded for a passwordless sign-in', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const authenticator = newAuthenticator();
    assert.equal((await registerPasskey(await t.signIn('jay'), authenticator)).res.status, 200);
    const recovering = supertest.agent(t.app);
    await recovering.post('/test/recovery').send({ id: 'kai' }).expect(200);
    const options = await recovering.post('/auth/mfa/webauthn/login/options').send({}).expect(403);
    assert.equal(options.body.error, 'recovery_only');
    // Even a well-formed assertion (made for another session's challenge) is refused for the scope alone.
    const other = await supertest.agent(t.app).post('/auth/mfa/webauthn/login/options').send({}).expect(200);
    const response = authenticator.getAssertion(other.body);
    const verify = await recovering.post('/auth/mfa/webauthn/login/verify').send({ response }).expect(403);
    assert.equal(verify.body.error, 'recovery_only');
  });

  test('passkeys registered in a normal session sign in at once', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const authenticator = newAuthenticator();
    assert.equal((await registerPasskey(await t.signIn('ivy'), authenticator)).res.status, 200);
    assert.equal((await loginWithPasskey(supertest.agent(t.app), authenticator)).res.status, 200);
    assert.ok(!t.events.some((e) => e.type === 'passwordless_refused'));
  });
});
