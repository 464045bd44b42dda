import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import supertest from 'supertest';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import type { TestApp } from '../../helpers/test-app.js';
import { makeWebAuthnApp, newAuthenticator, registerPasskey, verifyPasskey } from './webauthn-test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

/** A user with one passkey, in a new session that has not verified yet. */
async function enrolled(t: TestApp, userId: string) {
  const authenticator = newAuthenticator();
  const { res } = await registerPasskey(await t.signIn(userId), authenticator);
  assert.equal(res.status, 200);
  return { authenticator, id: res.body.passkey.id as string, agent: await t.signIn(userId) };
}

async function passkeyOf(agent: supertest.Agent) {
  return (await agent.get('/auth/mfa/webauthn/credentials').expect(200)).body.passkeys[0];
}

const post = (agent: supertest.Agent, response: unknown) =>
  agent.post('/auth/mfa/webauthn/verify/verify').send({ response });

describe('passkey as second factor', () => {
  test("options allow exactly the user's passkeys, with user verification preferred", async () => {
    const t = await makeWebAuthnApp(redis.client());
    const { agent, id } = await enrolled(t, 'ada');
    await enrolled(t, 'bob');
    const res = await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200);
    assert.deepEqual(
      res.body.allowCredentials.map((c: { id: string }) => c.id),
      [id],
    );
    assert.equal(res.body.userVerification, 'preferred');
    assert.equal(res.body.rpId, 'example.com');
  });

  test('a valid assertion elevates the session, saves the counter and last use, and says so', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const { agent, authenticator } = await enrolled(t, 'cyd');
    const before = await agent.get('/guarded').expect(401);
    assert.deepEqual(before.body.factors, ['webauthn', 'backup_codes']);
    t.clock.advance(60_000);
    const { res } = await verifyPasskey(agent, authenticator);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { ok: true, verifiedAt: t.clock.now() });
    assert.ok(res.headers['set-cookie'], 'the session id is regenerated');
    await agent.get('/guarded').expect(200);
    const passkey = await passkeyOf(agent);
    assert.equal(passkey.lastUsedAt, t.clock.now());
    assert.equal(t.events.at(-1)?.type, 'verified');
    assert.equal(t.events.at(-1)?.factor, 'webauthn');
    // Counters keep going up; each use is fine.
    t.clock.advance(60_000);
    assert.equal((await verifyPasskey(agent, authenticator)).res.status, 200);
  });

  test('authenticators that do not count (always 0) keep working', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const { agent, authenticator } = await enrolled(t, 'dee');
    authenticator.counterStep = 0;
    for (let i = 0; i < 3; i++) assert.equal((await verifyPasskey(agent, authenticator)).res.status, 200);
  });

  test('20 parallel submissions of one assertion: exactly one succeeds', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const { agent, authenticator } = await enrolled(t, 'eve');
    const options = (await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200)).body;
    const response = authenticator.getAssertion(options);
    const results = await Promise.all(Array.from({ length: 20 }, () => post(agent, response)));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
    assert.ok(
      statuses.every((s) => s === 200 || s === 401 || s === 429),
      statuses.join(','),
    );
    assert.ok(!t.events.some((e) => e.type === 'counter_regression'), 'a replay is not a clone signal');
    // And replayed later, from the elevated session, it still fails.
    const late = await post(agent, response);
    assert.ok(late.status === 401 || late.status === 429, String(late.status));
  });

  test("an assertion for one session's challenge fails in another session of the same user", async () => {
    const t = await makeWebAuthnApp(redis.client());
    const { agent, authenticator } = await enrolled(t, 'fay');
    const other = await t.signIn('fay');
    const mine = (await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200)).body;
    await other.post('/auth/mfa/webauthn/verify/options').send({}).expect(200);
    const response = authenticator.getAssertion(mine);
    await post(other, response).expect(401);
    await post(agent, response).expect(200);
    await post(other, response).expect(401);
  });

  test('a registration challenge cannot be answered with an assertion (cross-purpose)', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const { agent, authenticator } = await enrolled(t, 'gil');
    const verifyOptions = (await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200)).body;
    // Registration options need a fresh MFA, which this session lacks: use a fresh sibling session's.
    const fresh = await t.signIn('gil');
    assert.equal((await verifyPasskey(fresh, authenticator)).res.status, 200);
    const registerOptions = (await fresh.post('/auth/mfa/webauthn/register/options').send({}).expect(200))
      .body;
    const crossed = authenticator.getAssertion({ ...verifyOptions, challenge: registerOptions.challenge });
    const res = await post(fresh, crossed).expect(401);
    assert.equal(res.body.error, 'invalid_code');
    // A response of the wrong ceremony type for the right challenge fails too.
    const typed = authenticator.getAssertion(verifyOptions, { type: 'webauthn.create' });
    await post(agent, typed).expect(401);
  });

  test('an expired challenge fails by the injected clock', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const { agent, authenticator } = await enrolled(t, 'hal');
    const options = (await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200)).body;
    t.clock.advance(5 * 60_000);
    await post(agent, authenticator.getAssertion(options)).expect(401);
    t.clock.advance(-1);
    const fresh = (await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200)).body;
    t.clock.advance(5 * 60_000 - 1);
    await post(agent, authenticator.getAssertion(fresh)).expect(200);
  });

  test("another user's passkey cannot answer this user's challenge", async () => {
    const t = await makeWebAuthnApp(redis.client());
    const victim = await enrolled(t, 'ivy');
    const attacker = await enrolled(t, 'jan');
    const options = (await victim.agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200)).body;
    // The attacker's authenticator signs the victim's challenge with the attacker's (registered) passkey.
    const forged = attacker.authenticator.getAssertion({ ...options, allowCredentials: [] });
    const res = await post(victim.agent, forged).expect(401);
    assert.equal(res.body.error, 'invalid_code');
    await victim.agent.get('/guarded').expect(401);
    // The victim's own passkey still answers the same challenge.
    await post(victim.agent, victim.authenticator.getAssertion(options)).expect(200);
  });

  test('a user handle that is not the registered one is refused; none at all is fine', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const { agent, authenticator } = await enrolled(t, 'kim');
    const other = Buffer.from('someone-else-entirely-32-bytes!!').toString('base64url');
    assert.equal((await verifyPasskey(agent, authenticator, { userHandle: other })).res.status, 401);
    assert.equal((await verifyPasskey(agent, authenticator, { userHandle: null })).res.status, 200);
  });

  test('a counter that goes backwards is refused and reported', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const { agent, authenticator, id } = await enrolled(t, 'lou');
    assert.equal((await verifyPasskey(agent, authenticator, { counter: 10 })).res.status, 200);
    assert.equal((await passkeyOf(agent)).lastUsedAt, t.clock.now());
    for (const counter of [10, 9, 0]) {
      const { res } = await verifyPasskey(agent, authenticator, { counter });
      assert.equal(res.status, 401, `counter ${counter}`);
      assert.equal(res.body.error, 'invalid_code');
    }
    const reports = t.events.filter((e) => e.type === 'counter_regression');
    assert.deepEqual(
      reports.map((e) => ({ ...e, at: 0, ip: '' })),
      [10, 9, 0].map((received) => ({
        type: 'counter_regression',
        factor: 'webauthn',
        credentialId: id,
        stored: 10,
        received,
        userId: 'lou',
        at: 0,
        ip: '',
      })),
    );
    assert.equal((await verifyPasskey(agent, authenticator, { counter: 11 })).res.status, 200);
  });

  test('forged, malformed or unverifiable assertions are 401 and change nothing', async () => {
    const t = await makeWebAuthnApp(redis.client(), { limits: { maxFailures: 50 } });
    const { agent, authenticator } = await enrolled(t, 'max');
    const before = await passkeyOf(agent);
    const attempts: Array<(o: Record<string, unknown>) => unknown> = [
      (o) => authenticator.getAssertion(o as never, { badSignature: true }),
      (o) => authenticator.getAssertion(o as never, { origin: 'https://evil.example' }),
      (o) => authenticator.getAssertion(o as never, { rpId: 'evil.example' }),
      (o) => authenticator.getAssertion(o as never, { userPresent: false }),
      (o) => {
        const r = authenticator.getAssertion(o as never);
        return {
          ...r,
          response: { ...r.response, clientDataJSON: Buffer.from('{not json').toString('base64url') },
        };
      },
      (o) => {
        const r = authenticator.getAssertion(o as never);
        return { ...r, response: { ...r.response, authenticatorData: 'AAAA' } };
      },
      (o) => ({ ...authenticator.getAssertion(o as never), id: 'AAAA', rawId: 'AAAA' }),
    ];
    for (const make of attempts) {
      const options = (await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200)).body;
      const res = await post(agent, make(options));
      assert.equal(res.status, 401, JSON.stringify(res.body));
      assert.equal(res.body.error, 'invalid_code');
    }
    await agent.get('/guarded').expect(401);
    assert.deepEqual(await passkeyOf(agent), before);
    assert.equal(t.events.filter((e) => e.type === 'failed').length, attempts.length);
  });

  test('failures lock the factor: past the limit even a valid assertion gets 429', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const { agent, authenticator } = await enrolled(t, 'ned');
    for (let i = 0; i < 5; i++) {
      assert.equal((await verifyPasskey(agent, authenticator, { badSignature: true })).res.status, 401);
    }
    const { res } = await verifyPasskey(agent, authenticator);
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], String(15 * 60));
    t.clock.advance(15 * 60_000);
    assert.equal((await verifyPasskey(agent, authenticator)).res.status, 200);
  });

  test('order of checks: 400 for bad bodies (not counted), 401 without user, 403 without passkeys', async () => {
    const t = await makeWebAuthnApp(redis.client(), { limits: { maxFailures: 1 } });
    const none = await t.signIn('oli');
    const options403 = await none.post('/auth/mfa/webauthn/verify/options').send({}).expect(403);
    assert.equal(options403.body.error, 'not_enrolled');
    const { agent, authenticator } = await enrolled(t, 'pat');
    const options = (await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200)).body;
    const response = authenticator.getAssertion(options);
    const verify403 = await post(none, response).expect(403);
    assert.equal(verify403.body.error, 'not_enrolled');
    const anonymous = await supertest(t.app)
      .post('/auth/mfa/webauthn/verify/verify')
      .send({ response })
      .expect(401);
    assert.equal(anonymous.body.error, 'unauthenticated');
    for (const body of [
      {},
      null,
      { response: [] },
      { response: { ...response, rawId: 5 } },
      { response: { ...response, response: { ...response.response, signature: 'a b' } } },
      { response: { ...response, response: { ...response.response, userHandle: 'x'.repeat(200) } } },
      { response: { ...response, response: { ...response.response, authenticatorData: undefined } } },
    ]) {
      const res = await agent
        .post('/auth/mfa/webauthn/verify/verify')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(body));
      assert.equal(res.status, 400, JSON.stringify(body)?.slice(0, 80));
      assert.equal(res.body.error, 'invalid_request');
    }
    await post(agent, response).expect(200);
  });

  test('a recovery session may not verify with a passkey', async () => {
    const t = await makeWebAuthnApp(redis.client());
    await enrolled(t, 'quin');
    const recovering = supertest.agent(t.app);
    await recovering.post('/test/recovery').send({ id: 'quin' }).expect(200);
    const res = await recovering.post('/auth/mfa/webauthn/verify/options').send({}).expect(403);
    assert.equal(res.body.error, 'recovery_only');
  });
});
