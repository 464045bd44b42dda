import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import supertest from 'supertest';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import type { TestApp } from '../../helpers/test-app.js';
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

async function withPasskey(t: TestApp, userId: string) {
  const authenticator = newAuthenticator();
  const { res } = await registerPasskey(await t.signIn(userId), authenticator);
  assert.equal(res.status, 200);
  return authenticator;
}

const sid = (res: supertest.Response) =>
  ([] as string[])
    .concat(res.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith('connect.sid='))
    ?.split(';')[0];

const post = (agent: supertest.Agent, response: unknown) =>
  agent.post('/auth/mfa/webauthn/login/verify').send({ response });

describe('passwordless sign-in', () => {
  test('options are discoverable (no allowCredentials) and require user verification; no user needed', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const res = await supertest(t.app).post('/auth/mfa/webauthn/login/options').send({}).expect(200);
    assert.deepEqual(res.body.allowCredentials, []);
    assert.equal(res.body.userVerification, 'required');
    assert.equal(res.body.rpId, 'example.com');
    assert.ok(sid(res), 'the challenge lives in a new session');
  });

  test('signs in: a new session, onLogin called, MFA verified, event reported', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const authenticator = await withPasskey(t, 'ada');
    const agent = supertest.agent(t.app);
    const options = await agent.post('/auth/mfa/webauthn/login/options').send({}).expect(200);
    t.clock.advance(30_000);
    const res = await post(agent, authenticator.getAssertion(options.body)).expect(200);
    assert.deepEqual(res.body, { ok: true, userId: 'ada', verifiedAt: t.clock.now() });
    assert.ok(sid(res) && sid(res) !== sid(options), 'the session id is regenerated');
    await agent.get('/guarded').expect(200);
    await agent.get('/guarded-once').expect(200);
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.equal(status.body.userId, 'ada');
    assert.equal(status.body.verifiedAt, t.clock.now());
    assert.equal(status.body.passkeys[0].lastUsedAt, t.clock.now());
    const event = t.events.at(-1);
    assert.equal(event?.type, 'verified');
    assert.equal(event?.type === 'verified' && event.passwordless, true);
    assert.equal(event?.userId, 'ada');
    // The pre-sign-in session is gone.
    const old = await supertest(t.app).get('/auth/mfa/').set('Cookie', sid(options)!).expect(401);
    assert.equal(old.body.error, 'unauthenticated');
  });

  test('signs in over the session of another signed-in user, keeping nothing of it', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const authenticator = await withPasskey(t, 'bob');
    const agent = await t.signIn('someone-else');
    const { res } = await loginWithPasskey(agent, authenticator);
    assert.equal(res.status, 200);
    assert.equal((await agent.get('/auth/mfa/').expect(200)).body.userId, 'bob');
  });

  test('without user verification it fails', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const authenticator = await withPasskey(t, 'cyd');
    authenticator.userVerified = false;
    const agent = supertest.agent(t.app);
    const { res } = await loginWithPasskey(agent, authenticator);
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_code');
    await agent.get('/guarded').expect(401);
    const failed = t.events.at(-1);
    assert.equal(failed?.type, 'failed');
    assert.equal(failed?.userId, 'cyd');
    // The same passkey without UV still works as a second factor, where UV is only preferred.
    assert.equal((await verifyPasskey(await t.signIn('cyd'), authenticator)).res.status, 200);
  });

  test('the user handle must be present and name the owner of the credential', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const authenticator = await withPasskey(t, 'dee');
    const otherHandle = Buffer.alloc(32, 7).toString('base64url');
    const agent = supertest.agent(t.app);
    assert.equal((await loginWithPasskey(agent, authenticator, { userHandle: null })).res.status, 401);
    assert.equal((await loginWithPasskey(agent, authenticator, { userHandle: otherHandle })).res.status, 401);
    assert.equal((await loginWithPasskey(agent, authenticator)).res.status, 200);
  });

  test('unknown credentials, forged signatures, other origins and stale challenges fail alike', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const authenticator = await withPasskey(t, 'eve');
    const stranger = newAuthenticator();
    stranger.createCredential({
      challenge: 'AAAA',
      rp: { id: 'example.com', name: 'Acme' },
      user: { id: 'AAAA', name: 'x', displayName: 'x' },
      pubKeyCredParams: [],
    });
    const agent = supertest.agent(t.app);
    const answers = [
      (await loginWithPasskey(agent, stranger)).res,
      (await loginWithPasskey(agent, authenticator, { badSignature: true })).res,
      (await loginWithPasskey(agent, authenticator, { origin: 'https://evil.example' })).res,
    ];
    const options = (await agent.post('/auth/mfa/webauthn/login/options').send({}).expect(200)).body;
    t.clock.advance(5 * 60_000);
    answers.push(await post(agent, authenticator.getAssertion(options)));
    for (const res of answers) assert.deepEqual([res.status, res.body.error], [401, 'invalid_code']);
    assert.deepEqual(answers[0]?.body, answers[1]?.body);
    // A step-up challenge in the session cannot be answered at the sign-in route.
    const signedIn = await t.signIn('eve');
    const stepUp = (await signedIn.post('/auth/mfa/webauthn/verify/options').send({}).expect(200)).body;
    await post(signedIn, authenticator.getAssertion({ ...stepUp, allowCredentials: [] })).expect(401);
  });

  test('20 parallel submissions of one sign-in assertion: exactly one signs in', async () => {
    const t = await makeWebAuthnApp(redis.client(), {
      webauthn: { rpId: 'example.com', origin: 'https://example.com', loginLimits: { maxFailures: 100 } },
    });
    const authenticator = await withPasskey(t, 'fay');
    const agent = supertest.agent(t.app);
    const options = (await agent.post('/auth/mfa/webauthn/login/options').send({}).expect(200)).body;
    const response = authenticator.getAssertion(options);
    const results = await Promise.all(Array.from({ length: 20 }, () => post(agent, response)));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 401).length, 19, statuses.join(','));
    assert.equal(t.events.filter((e) => e.type === 'verified').length, 1);
    assert.ok(!t.events.some((e) => e.type === 'counter_regression'));
  });

  test('a counter regression is refused and reported', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const authenticator = await withPasskey(t, 'gil');
    const agent = supertest.agent(t.app);
    assert.equal((await loginWithPasskey(agent, authenticator, { counter: 5 })).res.status, 200);
    const stale = await loginWithPasskey(supertest.agent(t.app), authenticator, { counter: 5 });
    assert.equal(stale.res.status, 401);
    const report = t.events.find((e) => e.type === 'counter_regression');
    assert.equal(report?.userId, 'gil');
    assert.equal(report?.type === 'counter_regression' && report.received, 5);
  });

  test('failures are limited per client, never per user', async () => {
    const t = await makeWebAuthnApp(redis.client(), {
      webauthn: {
        rpId: 'example.com',
        origin: 'https://example.com',
        loginLimits: { maxFailures: 3, windowMs: 60_000, lockoutMs: 120_000 },
      },
    });
    t.app.set('trust proxy', true); // the client address comes from X-Forwarded-For
    const authenticator = await withPasskey(t, 'hal');
    const attacker = supertest.agent(t.app);
    const from = (ip: string) => (agent: supertest.Agent) => ({
      options: () => agent.post('/auth/mfa/webauthn/login/options').set('X-Forwarded-For', ip).send({}),
      verify: (response: unknown) =>
        agent.post('/auth/mfa/webauthn/login/verify').set('X-Forwarded-For', ip).send({ response }),
    });
    const evil = from('203.0.113.9')(attacker);
    for (let i = 0; i < 3; i++) {
      const options = (await evil.options().expect(200)).body;
      await evil.verify(authenticator.getAssertion(options, { badSignature: true })).expect(401);
    }
    // Locked: even the right assertion is refused, before anything is checked.
    const options = (await evil.options().expect(200)).body;
    const locked = await evil.verify(authenticator.getAssertion(options)).expect(429);
    assert.equal(locked.body.error, 'too_many_attempts');
    assert.equal(locked.headers['retry-after'], '120');
    const garbage = await evil.verify({ id: 'AAAA' });
    assert.equal(garbage.status, 400, 'bad bodies are 400 before the limit');

    // The user is not locked: another client signs in, and the passkey works as a second factor.
    const owner = from('198.51.100.7')(supertest.agent(t.app));
    const ownerOptions = (await owner.options().expect(200)).body;
    await owner.verify(authenticator.getAssertion(ownerOptions)).expect(200);
    assert.equal((await verifyPasskey(await t.signIn('hal'), authenticator)).res.status, 200);
    assert.ok(!t.events.some((e) => e.type === 'locked'), 'no per-user lock');

    t.clock.advance(120_000);
    const later = (await evil.options().expect(200)).body;
    await evil.verify(authenticator.getAssertion(later)).expect(200);
  });

  test('without onLogin the sign-in routes are 404', async () => {
    const t = await makeWebAuthnApp(redis.client(), { onLogin: undefined });
    for (const path of ['/auth/mfa/webauthn/login/options', '/auth/mfa/webauthn/login/verify']) {
      const res = await supertest(t.app).post(path).send({}).expect(404);
      assert.equal(res.body.error, 'not_found');
    }
    // Passkeys still work as a second factor.
    const authenticator = await withPasskey(t, 'ike');
    assert.equal((await verifyPasskey(await t.signIn('ike'), authenticator)).res.status, 200);
  });

  test('an onLogin that does not sign the user in is a 500 for the app to fix, never a sign-in', async () => {
    const t = await makeWebAuthnApp(redis.client(), { onLogin: () => {} });
    const authenticator = await withPasskey(t, 'jan');
    const agent = supertest.agent(t.app);
    const original = console.error;
    console.error = () => {};
    try {
      const { res } = await loginWithPasskey(agent, authenticator);
      assert.equal(res.status, 500);
      assert.equal(res.body.error, 'internal');
    } finally {
      console.error = original;
    }
    await agent.get('/guarded').expect(401);
  });

  test('bad bodies are 400', async () => {
    const t = await makeWebAuthnApp(redis.client());
    for (const body of [
      '{}',
      '[]',
      '{"response":{}}',
      '{"response":{"id":"AA","rawId":"AA","type":"public-key"}}',
    ]) {
      const res = await supertest(t.app)
        .post('/auth/mfa/webauthn/login/verify')
        .set('Content-Type', 'application/json')
        .send(body)
        .expect(400);
      assert.equal(res.body.error, 'invalid_request');
    }
  });
});
