import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import supertest from 'supertest';
import { createMfa, MemoryStore, MINUTE, RedisStore } from '../lib/index.js';
import { commandsExecuted, startRedis, type TestRedis } from './helpers/redis-server.js';
import { enrolTotp, makeTestApp, SECRET, totpCode } from './helpers/test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

describe('requireMfa', () => {
  test('passes up to exactly maxAge after the verification, and not 1 ms later', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('ada');
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(60_000);
    const { body } = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    t.clock.set(body.verifiedAt + 5 * MINUTE);
    await agent.get('/guarded').expect(200);
    t.clock.advance(1);
    const res = await agent.get('/guarded').expect(401);
    assert.equal(res.body.error, 'mfa_expired');
    assert.deepEqual(res.body.factors, ['totp', 'backup_codes']);
    assert.equal(typeof res.body.message, 'string');
    // Infinity: verified once in this session is enough.
    t.clock.advance(30 * 24 * 60 * MINUTE);
    await agent.get('/guarded-once').expect(200);
  });

  test('mfa_required with the usable factors before any verification in this session', async () => {
    const t = await makeTestApp(redis.client());
    await enrolTotp(await t.signIn('bob'), t.clock);
    const agent = await t.signIn('bob');
    const res = await agent.get('/guarded').expect(401);
    assert.deepEqual(res.body, {
      error: 'mfa_required',
      message: res.body.message,
      factors: ['totp', 'backup_codes'],
      phishingResistant: [],
    });
    await agent.get('/guarded-once').expect(401);
  });

  test('no user is 401 unauthenticated; a user without factors is 403 not_enrolled', async () => {
    const t = await makeTestApp(redis.client());
    const anonymous = await supertest(t.app).get('/guarded').expect(401);
    assert.equal(anonymous.body.error, 'unauthenticated');
    const agent = await t.signIn('cyd');
    const res = await agent.get('/guarded').expect(403);
    assert.deepEqual(res.body.factors, []);
    assert.equal(res.body.error, 'not_enrolled');
  });

  test("another user's MFA state counts as none", async () => {
    const t = await makeTestApp(redis.client());
    await enrolTotp(await t.signIn('eve'), t.clock);
    const agent = await t.signIn('dee');
    await enrolTotp(agent, t.clock);
    await agent.get('/guarded').expect(200);
    await agent.post('/test/become').send({ id: 'eve' }).expect(200);
    const res = await agent.get('/guarded').expect(401);
    assert.equal(res.body.error, 'mfa_required');
  });

  test('no session (store down or express-session missing) is 503', async () => {
    const app = express();
    const mfa = createMfa({
      issuer: 'Acme',
      store: new MemoryStore(),
      secret: SECRET,
      getUser: () => ({ id: 'x' }),
    });
    app.get('/guarded', mfa.requireMfa(), (_req, res) => {
      res.json({ ok: true });
    });
    const res = await supertest(app).get('/guarded').expect(503);
    assert.equal(res.body.error, 'unavailable');
  });

  test('a failing MFA store makes the refusal a 503, never a pass', async () => {
    const other = await startRedis();
    try {
      const t = await makeTestApp(redis.client(), {
        store: new RedisStore({ client: other.client({ maxRetriesPerRequest: 0 }), commandTimeoutMs: 300 }),
      });
      const agent = await t.signIn('fay');
      await other.stop();
      const guarded = await agent.get('/guarded').expect(503);
      assert.equal(guarded.body.error, 'unavailable');
      const verify = await agent.post('/auth/mfa/totp/verify').send({ code: '123456' }).expect(503);
      assert.equal(verify.body.error, 'unavailable');
    } finally {
      await other.close();
    }
  });

  test('rejects a bad maxAge at construction', async () => {
    const t = await makeTestApp(redis.client());
    assert.throws(() => t.mfa.requireMfa(-1), /milliseconds/);
    assert.throws(() => t.mfa.requireMfa(Number.NaN), /milliseconds/);
  });

  test('the pass path adds zero Redis commands beyond express-session', async () => {
    // A server of its own, so nothing else's commands are counted.
    const own = await startRedis();
    try {
      const client = own.client();
      const probe = own.client();
      const t = await makeTestApp(client);
      const agent = await t.signIn('gil');
      await enrolTotp(agent, t.clock);
      await agent.get('/guarded').expect(200);

      const commands = () => commandsExecuted(probe);
      const measure = async (path: string) => {
        const before = await commands();
        for (let i = 0; i < 20; i++) await agent.get(path).expect(200);
        return (await commands()) - before;
      };
      const sessionOnly = await measure('/session-only');
      const guarded = await measure('/guarded');
      assert.ok(sessionOnly >= 20, `express-session loads the session: ${sessionOnly} commands`);
      assert.equal(guarded, sessionOnly);
    } finally {
      await own.close();
    }
  });
});
