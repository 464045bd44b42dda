import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RedisStore as SessionStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import supertest from 'supertest';
import { createMfa, MINUTE, RedisStore } from '../lib/index.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { enrolTotp, SECRET, testClock, totpCode } from './helpers/test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

/** connect-redis whose DEL (the old session's destroy) or SET (the new session's save) can be made to fail. */
class FlakySessionStore extends SessionStore {
  failDestroy = false;
  failSet = false;
  override async destroy(sid: string, cb?: (err?: unknown) => void) {
    if (this.failDestroy) return cb?.(new Error('store down'));
    return super.destroy(sid, cb);
  }
  override async set(sid: string, sess: session.SessionData, cb?: (err?: unknown) => void) {
    if (this.failSet) return cb?.(new Error('store down'));
    return super.set(sid, sess, cb);
  }
}

function app() {
  const client = redis.client();
  const prefix = `regen${Math.random().toString(36).slice(2)}:`;
  const store = new FlakySessionStore({ client, prefix: `${prefix}sess:` });
  const clock = testClock();
  const app = express();
  app.use(session({ store, secret: 'session-secret', resave: false, saveUninitialized: false }));
  const mfa = createMfa({
    issuer: 'Acme',
    store: new RedisStore({ client, prefix: `${prefix}mfa:` }),
    secret: SECRET,
    getUser: (req) => req.session.user,
    now: clock.now,
  });
  app.post('/test/login', express.json(), (req, res) => {
    req.session.regenerate(() => {
      req.session.user = { id: req.body.id };
      res.json({ ok: true });
    });
  });
  app.use('/auth/mfa', mfa.router);
  app.get('/guarded', mfa.requireMfa(5 * MINUTE), (_req, res) => {
    res.json({ ok: true });
  });
  return { app, store, clock, client, prefix };
}

for (const failing of ['destroy', 'set'] as const) {
  test(`a verification whose session ${failing === 'destroy' ? "old id's destroy" : 'save'} fails answers 503 and hands out no session`, async () => {
    const t = app();
    const agent = supertest.agent(t.app);
    await agent.post('/test/login').send({ id: 'ada' }).expect(200);
    const { secret } = await enrolTotp(agent, t.clock);
    t.clock.advance(6 * MINUTE); // the confirmation's freshness has lapsed
    await agent.get('/guarded').expect(401);
    const before = await t.client.keys(`${t.prefix}sess:*`);

    if (failing === 'destroy') t.store.failDestroy = true;
    else t.store.failSet = true;
    const answer = await agent.post('/auth/mfa/totp/verify').send({ code: totpCode(secret, t.clock) });
    assert.equal(answer.status, 503);
    assert.equal(answer.headers['set-cookie'], undefined, 'a 503 must not set a new session cookie');
    t.store.failDestroy = false;
    t.store.failSet = false;

    // Nothing elevated was left behind: the client's session is still not verified, and any session
    // the failed request stored (its destroy failed too) is empty.
    await agent.get('/guarded').expect(401);
    for (const key of await t.client.keys(`${t.prefix}sess:*`)) {
      if (before.includes(key)) continue;
      const stored = JSON.parse((await t.client.get(key)) ?? '{}') as Record<string, unknown>;
      assert.deepEqual(Object.keys(stored), ['cookie'], `a session with content was left: ${key}`);
    }
  });
}

test('a verification regenerates the session: the old id dies before the answer, the new one is saved', async () => {
  const t = app();
  const agent = supertest.agent(t.app);
  await agent.post('/test/login').send({ id: 'bob' }).expect(200);
  const { secret } = await enrolTotp(agent, t.clock);
  t.clock.advance(MINUTE);
  const before = await t.client.keys(`${t.prefix}sess:*`);
  assert.equal(before.length, 1);
  const answer = await agent
    .post('/auth/mfa/totp/verify')
    .send({ code: totpCode(secret, t.clock) })
    .expect(200);
  assert.ok(answer.headers['set-cookie'], 'no new session cookie');
  const after = await t.client.keys(`${t.prefix}sess:*`);
  assert.equal(after.length, 1);
  assert.notEqual(after[0], before[0], 'the old session id is still stored');
  await agent.get('/guarded').expect(200);
});
