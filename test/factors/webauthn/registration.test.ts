import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import supertest from 'supertest';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { enrolTotp, totpCode } from '../../helpers/test-app.js';
import {
  makeWebAuthnApp,
  newAuthenticator,
  RP_ID,
  registerPasskey,
  verifyPasskey,
} from './webauthn-test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

describe('POST /webauthn/register/options', () => {
  test('asks for a resident key and user verification, preferred, with a random user handle', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const agent = await t.signIn('ada');
    const res = await agent.post('/auth/mfa/webauthn/register/options').send({}).expect(200);
    assert.equal(res.headers['cache-control'], 'no-store');
    const options = res.body;
    assert.deepEqual(options.rp, { name: 'Acme', id: RP_ID });
    assert.equal(options.user.name, 'ada@example.com');
    assert.deepEqual(options.authenticatorSelection, {
      residentKey: 'preferred',
      userVerification: 'preferred',
      requireResidentKey: false,
    });
    assert.equal(options.attestation, 'none');
    assert.equal(options.timeout, 5 * 60_000);
    assert.match(options.challenge, /^[A-Za-z0-9_-]{43}$/, '32 random bytes');
    // The handle is 32 random bytes, never the user id, and stays the same for the user.
    const handle = Buffer.from(options.user.id, 'base64url');
    assert.equal(handle.length, 32);
    assert.ok(!handle.toString('utf8').includes('ada'));
    const again = await agent.post('/auth/mfa/webauthn/register/options').send({}).expect(200);
    assert.equal(again.body.user.id, options.user.id);
    assert.notEqual(again.body.challenge, options.challenge);
    const other = await (await t.signIn('bob'))
      .post('/auth/mfa/webauthn/register/options')
      .send({})
      .expect(200);
    assert.notEqual(other.body.user.id, options.user.id);
  });

  test("excludes the user's existing passkeys, and no one else's", async () => {
    const t = await makeWebAuthnApp(redis.client());
    const ada = await t.signIn('ada');
    const { res } = await registerPasskey(ada, newAuthenticator());
    await registerPasskey(await t.signIn('bob'), newAuthenticator());
    const options = await ada.post('/auth/mfa/webauthn/register/options').send({}).expect(200);
    assert.deepEqual(
      options.body.excludeCredentials.map((c: { id: string }) => c.id),
      [res.body.passkey.id],
    );
    assert.deepEqual(options.body.excludeCredentials[0].transports, ['internal']);
  });

  test('needs a signed-in user; a fresh MFA once the user has a factor', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const anonymous = await supertest(t.app).post('/auth/mfa/webauthn/register/options').send({}).expect(401);
    assert.equal(anonymous.body.error, 'unauthenticated');
    const owner = await t.signIn('cyd');
    await enrolTotp(owner, t.clock);
    // A stolen password alone (a new session without MFA) cannot add the thief's passkey.
    const thief = await t.signIn('cyd');
    const res = await thief.post('/auth/mfa/webauthn/register/options').send({}).expect(401);
    assert.equal(res.body.error, 'mfa_required');
    assert.deepEqual(res.body.factors, ['totp', 'backup_codes']);
  });
});

describe('POST /webauthn/register/verify', () => {
  test('a first passkey: stored with its details, backup codes once, session elevated', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const agent = await t.signIn('dee');
    await agent.get('/guarded').expect(403);
    const authenticator = newAuthenticator();
    authenticator.synced = true;
    const { res, response } = await registerPasskey(agent, authenticator, { name: '  Laptop  ' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.backupCodes.length, 10);
    assert.deepEqual(res.body.passkey, {
      id: response.id,
      name: 'Laptop',
      createdAt: t.clock.now(),
      lastUsedAt: null,
      deviceType: 'multiDevice',
      backedUp: true,
    });
    await agent.get('/guarded').expect(200);
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, ['webauthn', 'backup_codes']);
    assert.deepEqual(status.body.passkeys, [res.body.passkey]);
    assert.deepEqual(
      t.events.map((e) => `${e.type}:${e.factor}`),
      ['enrolled:webauthn'],
    );
    // A second passkey, within the fresh window: no new backup codes, a default name.
    const second = await registerPasskey(agent, newAuthenticator());
    assert.equal(second.res.status, 200);
    assert.equal(second.res.body.backupCodes, undefined);
    assert.equal(second.res.body.passkey.name, 'Passkey 2');
    assert.equal(second.res.body.passkey.deviceType, 'singleDevice');
  });

  test('keeps public key, counter, transports and user handle in the store, nothing secret', async () => {
    const client = redis.client();
    const t = await makeWebAuthnApp(client, { prefix: 'wa-store:' });
    const agent = await t.signIn('eve');
    const { res, options } = await registerPasskey(agent, newAuthenticator());
    const id = res.body.passkey.id;
    const keys = (await client.keys('wa-store:mfa:*')).sort();
    const record = keys.find((k) => k.includes(':webauthn:cred:'));
    assert.ok(record);
    const stored = JSON.parse((await client.get(record)) ?? '{}');
    assert.equal(stored.id, id);
    assert.equal(stored.counter, 0);
    assert.deepEqual(stored.transports, ['internal']);
    assert.equal(stored.userHandle, options.user.id);
    assert.match(stored.publicKey, /^[A-Za-z0-9_-]+$/);
    assert.equal(await client.get(`wa-store:mfa:{c:${id}}:webauthn:owner`), 'eve');
    // The redeemed challenge marker is gone; nothing is left without a purpose.
    assert.ok(!keys.some((k) => k.includes(':webauthn:challenge:')), keys.join('\n'));
  });

  test('a second passkey needs a fresh MFA, and a passkey verification gives it', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const agent = await t.signIn('fay');
    const first = newAuthenticator();
    await registerPasskey(agent, first);
    // Options fetched while fresh do not help once the session is stale at verify.
    const early = (await agent.post('/auth/mfa/webauthn/register/options').send({}).expect(200)).body;
    t.clock.advance(5 * 60_000 + 1);
    const late = await agent
      .post('/auth/mfa/webauthn/register/verify')
      .send({ response: newAuthenticator().createCredential(early) })
      .expect(401);
    assert.equal(late.body.error, 'mfa_expired');
    const stale = await agent.post('/auth/mfa/webauthn/register/options').send({}).expect(401);
    assert.equal(stale.body.error, 'mfa_expired');
    assert.deepEqual(stale.body.factors, ['webauthn', 'backup_codes']);
    assert.equal((await verifyPasskey(agent, first)).res.status, 200);
    const { res } = await registerPasskey(agent, newAuthenticator());
    assert.equal(res.status, 200);
  });

  test('with TOTP enrolled and fresh, adds the passkey without new backup codes', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const agent = await t.signIn('gil');
    await enrolTotp(agent, t.clock);
    const { res } = await registerPasskey(agent, newAuthenticator());
    assert.equal(res.status, 200);
    assert.equal(res.body.backupCodes, undefined);
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, ['totp', 'webauthn', 'backup_codes']);
  });

  test('a recovery session may register without a fresh MFA and is not elevated', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const owner = await t.signIn('hal');
    const { secret } = await enrolTotp(owner, t.clock);
    const recovering = supertest.agent(t.app);
    await recovering.post('/test/recovery').send({ id: 'hal' }).expect(200);
    const { res } = await registerPasskey(recovering, newAuthenticator());
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.backupCodes, undefined, 'hal already has backup codes');
    const guarded = await recovering.get('/guarded').expect(403);
    assert.equal(guarded.body.error, 'recovery_only');
    const status = await recovering.get('/auth/mfa/').expect(200);
    assert.equal(status.body.verifiedAt, null);
    assert.equal(status.body.passkeys.length, 1);
    t.clock.advance(60_000);
    await owner
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
  });

  test('a credential id registered to anyone is refused', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const ada = await t.signIn('ivy');
    const authenticator = newAuthenticator();
    const first = await registerPasskey(ada, authenticator);
    const id = first.res.body.passkey.id;
    // The same credential again (an authenticator that ignores excludeCredentials).
    const again = await registerPasskey(ada, newAuthenticator(), { overrides: { credentialId: id } });
    assert.equal(again.res.status, 409);
    assert.equal(again.res.body.error, 'already_enrolled');
    // Another user claiming that credential id with their own key.
    const thief = await t.signIn('jan');
    const stolen = await registerPasskey(thief, newAuthenticator(), { overrides: { credentialId: id } });
    assert.equal(stolen.res.status, 409);
    const status = await thief.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.passkeys, []);
    assert.equal((await verifyPasskey(ada, authenticator)).res.status, 200, 'the owner keeps it');
  });

  test('replayed, expired, cross-purpose, foreign-origin and forged registrations are 401 and add nothing', async () => {
    const t = await makeWebAuthnApp(redis.client(), { limits: { maxFailures: 50 } });
    const agent = await t.signIn('kim');
    const expectInvalid = async (body: object) => {
      const res = await agent.post('/auth/mfa/webauthn/register/verify').send(body).expect(401);
      assert.equal(res.body.error, 'invalid_code');
    };
    // No challenge asked for at all.
    const orphan = newAuthenticator().createCredential({
      challenge: 'AAAA',
      rp: { id: RP_ID, name: 'x' },
      user: { id: 'AAAA', name: 'x', displayName: 'x' },
      pubKeyCredParams: [],
    });
    await expectInvalid({ response: orphan });

    const options = async () =>
      (await agent.post('/auth/mfa/webauthn/register/options').send({}).expect(200)).body;
    await expectInvalid({
      response: newAuthenticator().createCredential(await options(), { origin: 'https://evil.example' }),
    });
    await expectInvalid({
      response: newAuthenticator().createCredential(await options(), { rpId: 'evil.example' }),
    });
    await expectInvalid({
      response: newAuthenticator().createCredential(await options(), { type: 'webauthn.get' }),
    });
    await expectInvalid({
      response: newAuthenticator().createCredential(await options(), { challenge: 'b3RoZXI' }),
    });
    // A garbage attestation object: the library throws, we answer like any invalid response.
    const garbage = newAuthenticator().createCredential(await options());
    await expectInvalid({
      response: { ...garbage, response: { ...garbage.response, attestationObject: 'AAAA' } },
    });

    // Expired: the challenge is 5 minutes old by the injected clock.
    const stale = await options();
    t.clock.advance(5 * 60_000);
    await expectInvalid({ response: newAuthenticator().createCredential(stale) });

    // Cross-purpose: a step-up challenge cannot complete a registration.
    const good = await registerPasskey(agent, newAuthenticator());
    assert.equal(good.res.status, 200, 'the challenge of this session works');
    const verifyOptions = (await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200)).body;
    await expectInvalid({
      response: newAuthenticator().createCredential({ ...stale, challenge: verifyOptions.challenge }),
    });
    // Replay of the successful registration.
    await expectInvalid({ response: good.response });
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.equal(status.body.passkeys.length, 1);
  });

  test('parallel submissions of one registration: exactly one passkey is added', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const agent = await t.signIn('lou');
    const options = (await agent.post('/auth/mfa/webauthn/register/options').send({}).expect(200)).body;
    const authenticators = Array.from({ length: 10 }, () => newAuthenticator());
    const results = await Promise.all(
      authenticators.map((a) =>
        agent.post('/auth/mfa/webauthn/register/verify').send({ response: a.createCredential(options) }),
      ),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
    const status = await (await t.signIn('lou')).get('/auth/mfa/').expect(200);
    assert.equal(status.body.passkeys.length, 1);
  });

  test('bad bodies are 400 and not counted', async () => {
    const t = await makeWebAuthnApp(redis.client(), { limits: { maxFailures: 1 } });
    const agent = await t.signIn('max');
    const options = (await agent.post('/auth/mfa/webauthn/register/options').send({}).expect(200)).body;
    const response = newAuthenticator().createCredential(options);
    for (const body of [
      {},
      [],
      { response: 'x' },
      { response: null },
      { response: { ...response, type: 'password' } },
      { response: { ...response, id: 'not base64url!' } },
      { response: { ...response, response: {} } },
      { response: { ...response, response: { ...response.response, clientDataJSON: 42 } } },
      { response, name: '' },
      { response, name: 'x'.repeat(65) },
      { response, name: 7 },
    ]) {
      const res = await agent.post('/auth/mfa/webauthn/register/verify').send(body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 100));
      assert.equal(res.body.error, 'invalid_request');
      assert.equal(typeof res.body.message, 'string');
    }
    await agent.post('/auth/mfa/webauthn/register/options').type('form').send('a=1').expect(415);
    // Eleven bad bodies with a limit of one: none counted, the real response still registers.
    await agent.post('/auth/mfa/webauthn/register/verify').send({ response }).expect(200);
  });
});
