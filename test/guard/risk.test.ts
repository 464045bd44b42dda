import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type GuardVerification, MINUTE } from '../../lib/index.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { enrolTotp, totpCode } from '../helpers/test-app.js';
import { type GuardTestApp, makeGuardApp, showLocals } from './guard-test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
before(() => process.on('unhandledRejection', onUnhandled));
after(() => process.off('unhandledRejection', onUnhandled));

/** A user with TOTP, verified in a new session. */
async function verified(t: GuardTestApp, userId: string) {
  const setup = await t.signIn(userId);
  const { secret } = await enrolTotp(setup, t.clock);
  const agent = await t.signIn(userId);
  t.clock.advance(60_000);
  await agent
    .post('/auth/mfa/totp/verify')
    .send({ code: totpCode(secret, t.clock) })
    .expect(200);
  return { agent, secret };
}

describe('requireMfa risk', () => {
  test('true refuses inside the window (event step_up_risk); a verification after the signal passes', async () => {
    // The app's signal: a user flagged at some time needs a verification made after that time.
    const flaggedAt = new Map<string, number>();
    const seen: GuardVerification[] = [];
    const t = await makeGuardApp(redis.client(), (mfa, app) => {
      const risk = (_req: unknown, v: GuardVerification) => {
        seen.push(v);
        return v.verifiedAt <= (flaggedAt.get(v.userId) ?? Number.NEGATIVE_INFINITY);
      };
      app.get('/risky', mfa.requireMfa(5 * MINUTE, { risk }), showLocals);
    });
    const { agent, secret } = await verified(t, 'ada');
    const verifiedAt = t.clock.now();
    t.clock.advance(1000);
    await agent.get('/risky').expect(200);
    assert.deepEqual(seen.at(-1), {
      userId: 'ada',
      verifiedAt,
      method: 'totp',
      methods: ['totp'],
      ageMs: 1000,
    });

    flaggedAt.set('ada', t.clock.now());
    const refused = await agent.get('/risky?x=1').expect(401);
    assert.deepEqual(refused.body, {
      error: 'mfa_required',
      message: 'Verify again to continue.',
      factors: ['totp', 'backup_codes'],
      phishingResistant: [],
    });
    const event = t.events.at(-1);
    assert.deepEqual(event, {
      type: 'step_up_risk',
      factor: 'totp',
      verifiedAt,
      path: '/risky',
      userId: 'ada',
      at: t.clock.now(),
      ip: event?.ip,
    });
    await agent.get('/guarded').expect(200);

    t.clock.advance(60_000);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    await agent.get('/risky').expect(200);
  });

  test('an async risk decides the same way; it is never asked when the session does not pass anyway', async () => {
    let calls = 0;
    let risky = false;
    const t = await makeGuardApp(redis.client(), (mfa, app) => {
      const risk = async () => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return risky;
      };
      app.get('/risky', mfa.requireMfa(5 * MINUTE, { risk }), showLocals);
    });
    const fresh = await t.signIn('bob');
    await fresh.get('/risky').expect(403);
    const { agent } = await verified(t, 'bob');
    assert.equal(calls, 0);
    await agent.get('/risky').expect(200);
    risky = true;
    assert.equal((await agent.get('/risky').expect(401)).body.error, 'mfa_required');
    assert.equal(calls, 2);
    assert.equal(t.events.at(-1)?.type, 'step_up_risk');
  });

  test('a risk that throws, rejects or answers something else refuses through next(error), never unhandled', async () => {
    let reached = 0;
    const answers: Record<string, () => unknown> = {
      throws: () => {
        throw new Error('risk service down');
      },
      rejects: () => Promise.reject(new Error('risk service timed out')),
      undefined: () => undefined,
      string: () => 'no',
      asyncString: async () => 'yes',
    };
    const t = await makeGuardApp(redis.client(), (mfa, app) => {
      for (const [name, risk] of Object.entries(answers)) {
        app.get(`/risk/${name}`, mfa.requireMfa(5 * MINUTE, { risk: risk as never }), (_req, res) => {
          reached++;
          res.json({ ok: true });
        });
      }
    });
    const { agent } = await verified(t, 'cyd');
    for (const name of Object.keys(answers)) {
      const res = await agent.get(`/risk/${name}`).expect(500);
      assert.deepEqual(res.body, { error: 'app_error' }, name);
    }
    assert.equal(reached, 0, 'the guarded handler never ran');
    const messages = t.errors.map((e) => (e as Error).message);
    assert.deepEqual(messages.slice(0, 2), ['risk service down', 'risk service timed out']);
    for (const message of messages.slice(2)) assert.match(message, /risk\(\) must return true or false/);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  });
});
