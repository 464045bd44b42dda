import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MINUTE } from '../../lib/index.js';
import { commandsExecuted, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { enrolAndVerifyTotp, enrolTotp, totpCode } from '../helpers/test-app.js';
import { client, makeGuardApp, showLocals } from './guard-test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

describe('the pass path', () => {
  test('res.locals.mfa: the counted verification, the session methods and until when this guard passes', async () => {
    const t = await makeGuardApp(redis.client(), (mfa, app) => {
      app.get('/five', mfa.requireMfa(5 * MINUTE), showLocals);
      app.get('/once', mfa.requireMfa(Number.POSITIVE_INFINITY), showLocals);
      app.get('/none', (_req, res) => {
        res.json({ mfa: res.locals.mfa ?? null });
      });
    });
    const agent = await t.signIn('ada');
    await enrolAndVerifyTotp(agent, t.clock);
    const verifiedAt = t.clock.now();
    t.clock.advance(10_000);
    const five = await agent.get('/five').expect(200);
    assert.deepEqual(five.body.mfa, {
      verifiedAt,
      method: 'totp',
      methods: ['totp'],
      verifiedUntil: verifiedAt + 5 * MINUTE,
    });
    const once = await agent.get('/once').expect(200);
    assert.deepEqual(once.body.mfa, { verifiedAt, method: 'totp', methods: ['totp'], verifiedUntil: null });
    assert.deepEqual((await agent.get('/none').expect(200)).body, { mfa: null });
  });

  test('with every option on, zero Redis commands beyond express-session and the session left as it was', async () => {
    // A server of its own, so nothing else's commands are counted.
    const own = await startRedis();
    try {
      const appClient = own.client();
      const probe = own.client();
      let riskCalls = 0;
      const t = await makeGuardApp(
        appClient,
        (mfa, app) => {
          const risk = () => {
            riskCalls++;
            return false;
          };
          const all = mfa.requireMfa(5 * MINUTE, {
            methods: ['totp', 'webauthn'],
            sameClient: true,
            risk,
            onRequired: (_req, res) => {
              res.status(401).end();
            },
          });
          app.get('/all-options', all, showLocals);
          app.get('/plain', mfa.requireMfa(5 * MINUTE), showLocals);
        },
        {
          pages: { verify: '/verify' },
          onRequired: (_req, res) => {
            res.status(401).end();
          },
          prefix: 'cost:',
        },
      );
      const me = client('203.0.113.7');
      t.app.set('trust proxy', true);
      const agent = await t.signIn('gil');
      const { secret } = await enrolTotp(agent, t.clock);
      t.clock.advance(60_000);
      await agent
        .post('/auth/mfa/totp/verify')
        .set(me)
        .send({ code: totpCode(secret, t.clock) })
        .expect(200);
      await agent.get('/all-options').set(me).expect(200);

      const sessionKeys = await probe.keys('cost:sess:*');
      assert.equal(sessionKeys.length, 1);
      const stored = await probe.get(sessionKeys[0]!);
      const commands = () => commandsExecuted(probe);
      const measure = async (path: string) => {
        const before = await commands();
        for (let i = 0; i < 20; i++) await agent.get(path).set(me).expect(200);
        return (await commands()) - before;
      };
      const sessionOnly = await measure('/session-only');
      const plain = await measure('/plain');
      const before = riskCalls;
      const allOptions = await measure('/all-options');
      assert.equal(riskCalls - before, 20, 'the guard really ran its risk check on each request');
      assert.ok(sessionOnly >= 20, `express-session loads the session: ${sessionOnly} commands`);
      assert.equal(plain, sessionOnly);
      assert.equal(allOptions, sessionOnly);
      // Not a byte of the session changed: the guard never modifies it.
      assert.equal(await probe.get(sessionKeys[0]!), stored);
    } finally {
      await own.close();
    }
  });
});

describe('without options', () => {
  test('refusals keep their codes and factors; the plain guard ignores client and factor', async () => {
    const t = await makeGuardApp(redis.client(), () => {});
    t.app.set('trust proxy', true);
    const agent = await t.signIn('hal');
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(60_000);
    await agent
      .post('/auth/mfa/totp/verify')
      .set(client('203.0.113.7', 'Firefox'))
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    await agent.get('/guarded').set(client('198.51.100.1', 'curl')).expect(200);
    t.clock.advance(5 * MINUTE + 1);
    const res = await agent.get('/guarded').set('Accept', 'text/html').expect(401);
    assert.deepEqual(res.body, {
      error: 'mfa_expired',
      message: 'Your last verification is too old. Verify again to continue.',
      factors: ['totp', 'backup_codes'],
      phishingResistant: [],
    });
    // No pages configured: no Vary, no redirect, exactly the JSON answer.
    assert.equal(res.headers.vary, undefined);
    await agent.get('/guarded-once').expect(200);
  });
});
