import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { MINUTE } from '../../lib/index.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { enrolTotp, type TestClock, totpCode } from '../helpers/test-app.js';
import { client, type GuardTestApp, makeGuardApp, sessionCookie, showLocals } from './guard-test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

async function app(trustProxy: boolean | string) {
  const t = await makeGuardApp(redis.client(), (mfa, app) => {
    app.get('/bound', mfa.requireMfa(5 * MINUTE, { sameClient: true }), showLocals);
    app.get(
      '/bound-passkey',
      mfa.requireMfa(5 * MINUTE, { sameClient: true, methods: ['webauthn'] }),
      showLocals,
    );
  });
  t.app.set('trust proxy', trustProxy);
  return t;
}

/** A user with TOTP, verified in a new session by a client with `headers`. */
async function verifiedFrom(t: GuardTestApp, userId: string, headers: Record<string, string>) {
  const setup = await t.signIn(userId);
  const { secret } = await enrolTotp(setup, t.clock);
  const agent = await t.signIn(userId);
  const verified = await verify(agent, secret, t.clock, headers);
  return { agent, secret, cookie: sessionCookie(verified) };
}

async function verify(
  agent: Awaited<ReturnType<GuardTestApp['signIn']>>,
  secret: string,
  clock: TestClock,
  headers: Record<string, string>,
) {
  clock.advance(60_000);
  return agent
    .post('/auth/mfa/totp/verify')
    .set(headers)
    .send({ code: totpCode(secret, clock) })
    .expect(200);
}

describe('requireMfa sameClient', () => {
  test('IPv4: the same /24 and browser pass; another /24 or another User-Agent is refused', async () => {
    const t = await app(true);
    const { agent } = await verifiedFrom(t, 'ada', client('203.0.113.7', 'Firefox'));
    await agent.get('/bound').set(client('203.0.113.7', 'Firefox')).expect(200);
    await agent.get('/bound').set(client('203.0.113.250', 'Firefox')).expect(200);
    const network = await agent.get('/bound').set(client('203.0.114.7', 'Firefox')).expect(401);
    assert.equal(network.body.error, 'mfa_required');
    assert.deepEqual(network.body.factors, ['totp', 'backup_codes']);
    assert.equal(
      (await agent.get('/bound').set(client('203.0.113.7', 'Chrome')).expect(401)).body.error,
      'mfa_required',
    );
    // A route without sameClient is not affected; the cookie itself still works elsewhere.
    await agent.get('/guarded').set(client('198.51.100.1', 'curl')).expect(200);
    // Once the window is over it is expired, from the right client; still "required" from the wrong one.
    t.clock.advance(5 * MINUTE + 1);
    assert.equal(
      (await agent.get('/bound').set(client('203.0.113.7', 'Firefox')).expect(401)).body.error,
      'mfa_expired',
    );
    assert.equal(
      (await agent.get('/bound').set(client('203.0.114.7', 'Firefox')).expect(401)).body.error,
      'mfa_required',
    );
  });

  test('IPv6: the same /48 passes, another /48 is refused; IPv4-mapped addresses are IPv4', async () => {
    const t = await app(true);
    const { agent, secret } = await verifiedFrom(t, 'bob', client('2001:db8:abcd:1::5'));
    await agent.get('/bound').set(client('2001:db8:abcd:ffff::1')).expect(200);
    await agent.get('/bound').set(client('2001:0db8:abcd:0012:0000:0000:0000:0001')).expect(200);
    await agent.get('/bound').set(client('2001:db8:abce::1')).expect(401);
    await agent.get('/bound').set(client('2001:db9:abcd::1')).expect(401);

    await verify(agent, secret, t.clock, client('::ffff:203.0.113.7'));
    await agent.get('/bound').set(client('203.0.113.8')).expect(200);
    await agent.get('/bound').set(client('::ffff:203.0.113.9')).expect(200);
    await agent.get('/bound').set(client('::ffff:203.0.114.7')).expect(401);
  });

  test('a verification elsewhere does not move the binding of an earlier one by another factor', async () => {
    const t = await app(true);
    const { agent, secret } = await verifiedFrom(t, 'cyd', client('203.0.113.7'));
    // The same session verifies TOTP again, from another network: the newest binding of TOTP is that one.
    await verify(agent, secret, t.clock, client('198.51.100.7'));
    await agent.get('/bound').set(client('198.51.100.8')).expect(200);
    await agent.get('/bound').set(client('203.0.113.7')).expect(401);
    // No passkey verification at all: a passkey-only, bound route never passes.
    assert.equal(
      (await agent.get('/bound-passkey').set(client('198.51.100.8')).expect(403)).body.error,
      'not_enrolled',
    );
  });

  test("trust proxy off: X-Forwarded-For is ignored, as by req.ip; the socket's address decides", async () => {
    const t = await app(false);
    const { agent, cookie } = await verifiedFrom(t, 'dee', client('203.0.113.7', 'Firefox'));
    // The forwarded address is not the client's: a spoofed header neither helps nor hurts.
    await agent.get('/bound').set(client('198.51.100.1', 'Firefox')).expect(200);

    // A real connection from another /24 of the loopback network (127.0.1.1) is another client.
    const server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const get = (localAddress: string) =>
        new Promise<number>((resolve, reject) => {
          const req = http.get(
            {
              host: '127.0.0.1',
              port,
              path: '/bound',
              localAddress,
              headers: { cookie, 'user-agent': 'Firefox' },
            },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
        });
      assert.equal(await get('127.0.0.1'), 200);
      assert.equal(await get('127.0.0.77'), 200);
      assert.equal(await get('127.0.1.1'), 401);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("trust proxy 'loopback': the address the trusted proxy saw counts, not a spoofed left-most entry", async () => {
    const t = await app('loopback');
    const { agent } = await verifiedFrom(t, 'eve', client('203.0.113.7'));
    // The client prepends a forged hop: the proxy appends the real address, which is what req.ip takes.
    await agent.get('/bound').set(client('198.51.100.1, 203.0.113.7')).expect(200);
    await agent.get('/bound').set(client('203.0.113.7, 198.51.100.1')).expect(401);
  });
});
