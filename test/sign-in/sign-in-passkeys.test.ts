import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import supertest from 'supertest';
import { verifyByEmail } from '../factors/email-sms/helpers.js';
import { eventually, makeRecoveryApp, recover, recoveryEmails } from '../factors/recovery/helpers.js';
import { newAuthenticator, ORIGIN, RP_ID, registerPasskey } from '../factors/webauthn/webauthn-test-app.js';
import { addPasswordRoute, fileRedis, makeSignInApp } from '../helpers/sign-in-app.js';
import { enrolTotp, totpCode } from '../helpers/test-app.js';

const redisClient = fileRedis();

const webauthn = { rpId: RP_ID, rpName: 'Acme', origin: ORIGIN };

describe('sign-in with passkeys', () => {
  test('a passkey completes a pending sign-in (and may remember the device)', async () => {
    const t = await makeSignInApp(redisClient(), { webauthn, trustedDevices: true });
    const authenticator = newAuthenticator();
    assert.equal((await registerPasskey(await t.signIn('ada'), authenticator)).res.status, 200);
    const { agent, res } = await t.password('ada');
    assert.deepEqual(res.body, { status: 'mfa_required', factors: ['webauthn', 'backup_codes'] });

    const options = await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200);
    const response = authenticator.getAssertion(options.body);
    const ok = await agent.post('/auth/mfa/webauthn/verify/verify').send({ response, rememberDevice: true });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.signedIn, true);
    assert.ok(ok.body.trustedDevice.id);
    assert.equal(t.logins.get('ada'), 1);
    assert.equal((await agent.get('/test/me')).body.user.id, 'ada');
    await agent.get('/guarded').expect(200);
    // The remembered device skips the passkey at the next sign-in in this browser.
    assert.equal((await t.password('ada', agent)).res.body.trustedDevice, true);
  });

  test('a pending session can neither register a passkey nor trade itself for a passwordless sign-in', async () => {
    const t = await makeSignInApp(redisClient(), { webauthn });
    assert.equal((await registerPasskey(await t.signIn('bob'), newAuthenticator())).res.status, 200);
    const { agent } = await t.password('bob');
    for (const res of [
      await agent.post('/auth/mfa/webauthn/register/options').send({}),
      await agent.post('/auth/mfa/webauthn/login/options').send({}),
      await agent.get('/auth/mfa/webauthn/credentials'),
    ]) {
      assert.equal(res.status, 403, res.text);
      assert.equal(res.body.error, 'mfa_pending');
    }
  });

  test('passwordless passkey sign-in still works beside it', async () => {
    const t = await makeSignInApp(redisClient(), { webauthn });
    const authenticator = newAuthenticator();
    assert.equal((await registerPasskey(await t.signIn('cyd'), authenticator)).res.status, 200);
    const agent = supertest.agent(t.app);
    const options = await agent.post('/auth/mfa/webauthn/login/options').send({}).expect(200);
    const response = authenticator.getAssertion(options.body);
    const res = await agent.post('/auth/mfa/webauthn/login/verify').send({ response }).expect(200);
    assert.equal(res.body.userId, 'cyd');
    assert.equal(t.logins.get('cyd'), 1);
    await agent.get('/guarded').expect(200);
  });

  test("registering a first passkey completes a sign-in under the 'required' policy", async () => {
    const t = await makeSignInApp(redisClient(), { webauthn, signIn: { enrolment: 'required' } });
    const { agent, res } = await t.password('dee');
    assert.equal(res.body.status, 'enrol_required');
    const { res: registered } = await registerPasskey(agent, newAuthenticator());
    assert.equal(registered.status, 200, registered.text);
    assert.equal(registered.body.signedIn, true);
    assert.equal(registered.body.backupCodes.length, 10);
    assert.equal((await agent.get('/test/me')).body.user.id, 'dee');
  });
});

describe('recovery and sign-in', () => {
  test('completing recovery forgets every remembered device; a pending sign-in may start recovery', async () => {
    const t = await makeRecoveryApp(redisClient(), {
      trustedDevices: true,
      onLogin: (req, userId) => {
        req.session.user = { id: userId, email: `${userId}@example.com` };
      },
    });
    addPasswordRoute(t.app, t.mfa);
    const owner = await t.signIn('eve');
    // Email is a factor here, so adding TOTP needs a fresh verification by email first.
    await verifyByEmail(owner, t.email);
    const { secret } = await enrolTotp(owner, t.clock);
    t.clock.advance(30_000);
    const browser = supertest.agent(t.app);
    await browser.post('/test/password?id=eve').expect(200);
    const remembered = await browser
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock), rememberDevice: true })
      .expect(200);
    assert.ok(remembered.body.trustedDevice);
    assert.equal((await browser.post('/test/password?id=eve').expect(200)).body.trustedDevice, true);

    // Lost the authenticator: a pending sign-in is not in the way of recovery.
    const pending = supertest.agent(t.app);
    t.clock.advance(30_000);
    assert.equal((await pending.post('/test/password?id=eve').expect(200)).body.status, 'mfa_required');
    await pending.post('/auth/mfa/recovery/start').send({ email: 'eve@example.com' }).expect(202);
    await eventually(() => recoveryEmails(t.email).length === 1, 'the recovery email');
    await recover(t, 'eve@example.com');
    const after = await browser.post('/test/password?id=eve').expect(200);
    // The factors are gone too, so the password signs in, but not as a remembered device.
    assert.deepEqual(after.body, { status: 'signed_in' });
    assert.ok(t.events.some((e) => e.type === 'trusted_device_revoked' && e.reason === 'factors_changed'));
  });
});
