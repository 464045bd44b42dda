import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import supertest from 'supertest';
import type { MfaOptions } from '../../../lib/index.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import type { TestApp } from '../../helpers/test-app.js';
import {
  loginWithPasskey,
  makeWebAuthnApp,
  newAuthenticator,
  ORIGIN,
  RP_ID,
  registerPasskey,
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

const OPTIONS = '/auth/mfa/webauthn/login/options';

/** Runs `body` with console.error silenced: the router logs the 500s these tests cause on purpose. */
async function quietly<T>(body: () => Promise<T>): Promise<T> {
  const original = console.error;
  console.error = () => {};
  try {
    return await body();
  } finally {
    console.error = original;
  }
}

describe('passwordless sign-in: per-client limits', () => {
  test("a success does not reset the client's failures: bad assertions between own sign-ins still lock", async () => {
    const t = await makeWebAuthnApp(redis.client(), {
      webauthn: {
        rpId: RP_ID,
        origin: ORIGIN,
        loginLimits: { maxFailures: 3, windowMs: 60_000, lockoutMs: 120_000 },
      },
    });
    const victim = await withPasskey(t, 'vic');
    const own = await withPasskey(t, 'mallory');
    const attacker = supertest.agent(t.app);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await loginWithPasskey(attacker, victim, { badSignature: true })).res.status);
      statuses.push((await loginWithPasskey(attacker, own)).res.status);
    }
    // The third failure locks the client; even its own passkey is then refused until the lock ends.
    assert.deepEqual(statuses, [401, 200, 401, 200, 401, 429]);
    t.clock.advance(120_000);
    assert.equal((await loginWithPasskey(attacker, own)).res.status, 200);
  });

  test('options are limited per client: 30 a minute by default, then 429 without a session', async () => {
    const t = await makeWebAuthnApp(redis.client());
    t.app.set('trust proxy', true); // the client address comes from X-Forwarded-For
    const options = (ip: string) => supertest(t.app).post(OPTIONS).set('X-Forwarded-For', ip).send({});
    for (let i = 0; i < 30; i++) await options('203.0.113.9').expect(200);
    const limited = await options('203.0.113.9').expect(429);
    assert.equal(limited.body.error, 'too_many_attempts');
    assert.equal(limited.headers['retry-after'], '60');
    assert.equal(limited.headers['set-cookie'], undefined, 'a refused call creates no session');
    await options('198.51.100.7').expect(200);
    t.clock.advance(60_000);
    await options('203.0.113.9').expect(200);
  });

  test('the options limit is configurable under loginLimits', async () => {
    const t = await makeWebAuthnApp(redis.client(), {
      webauthn: { rpId: RP_ID, origin: ORIGIN, loginLimits: { maxOptionsPerMinute: 2 } },
    });
    const agent = supertest.agent(t.app);
    await agent.post(OPTIONS).send({}).expect(200);
    await agent.post(OPTIONS).send({}).expect(200);
    await agent.post(OPTIONS).send({}).expect(429);
  });

  test('repeated options calls from one session, even in parallel, keep a single marker', async () => {
    const client = redis.client();
    const prefix = `wl${Math.random().toString(36).slice(2)}:`;
    const t = await makeWebAuthnApp(client, { prefix });
    const authenticator = await withPasskey(t, 'ned');
    const agent = supertest.agent(t.app);
    await agent.post(OPTIONS).send({}).expect(200);
    await Promise.all(Array.from({ length: 10 }, () => agent.post(OPTIONS).send({}).expect(200)));
    await agent.post(OPTIONS).send({}).expect(200);
    const markers = await client.keys(`${prefix}mfa:*login-challenge*`);
    assert.equal(markers.length, 1, markers.join('\n'));
    // The session's latest challenge still signs in.
    assert.equal((await loginWithPasskey(agent, authenticator)).res.status, 200);
  });
});

describe('passwordless sign-in: a failing onLogin', () => {
  const failing = async (onLogin: MfaOptions['onLogin']) => {
    const t = await makeWebAuthnApp(redis.client(), { onLogin });
    const authenticator = await withPasskey(t, 'kai');
    const agent = supertest.agent(t.app);
    const { res } = await quietly(() => loginWithPasskey(agent, authenticator));
    assert.equal(res.status, 500);
    assert.equal(res.body.error, 'internal');
    // Nobody is signed in afterwards, not even with what onLogin managed to write.
    const status = await agent.get('/auth/mfa/').expect(401);
    assert.equal(status.body.error, 'unauthenticated');
    await agent.get('/guarded').expect(401);
  };

  test('onLogin that throws after writing the session leaves nobody half-signed-in', async () => {
    await failing((req, userId) => {
      req.session.user = { id: userId };
      throw new Error('the user directory is down');
    });
  });

  test('onLogin that signs in someone else is undone', async () => {
    await failing(async (req) => {
      req.session.user = { id: 'someone-else' };
    });
  });
});
