import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import express from 'express';
import session from 'express-session';
import supertest from 'supertest';
import { createMfa, MemoryStore } from '../lib/index.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { enrolTotp, SECRET, testClock, totpCode } from './helpers/test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

/** express-session's own store, made to fail its writes on demand (a full disk, a dropped link). */
class FlakySessionStore extends session.MemoryStore {
  failWrites = false;
  override set(sid: string, data: session.SessionData, cb?: (err?: unknown) => void) {
    if (this.failWrites) return cb?.(new Error('write failed'));
    super.set(sid, data, cb);
  }
}

function appWith(sessionStore: session.Store) {
  const clock = testClock();
  const app = express();
  app.use(session({ store: sessionStore, secret: 's', resave: false, saveUninitialized: false }));
  const mfa = createMfa({
    issuer: 'Acme',
    store: new MemoryStore({ now: clock.now }),
    secret: SECRET,
    getUser: (req) => req.session.user,
    now: clock.now,
  });
  app.post('/login', express.json(), (req, res) => {
    req.session.user = { id: 'ada' };
    (req.session as unknown as Record<string, unknown>).cart = ['book'];
    req.session.cookie.maxAge = 7 * 24 * 3600_000; // "remember me" chosen by the app
    res.json({ ok: true });
  });
  app.get('/me', (req, res) => {
    res.json({ ...req.session, cookie: { originalMaxAge: req.session.cookie.originalMaxAge } });
  });
  app.use('/auth/mfa', mfa.router);
  // The app's own logger: errors that arrive after the answer was sent (express-session saving at the
  // end of the response) are kept here instead of printed by Express's final handler.
  const logged: unknown[] = [];
  app.use((err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    logged.push(err);
    if (res.headersSent) return;
    next(err);
  });
  return { app, clock, logged };
}

const sid = (res: supertest.Response) =>
  ([] as string[])
    .concat(res.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith('connect.sid='))
    ?.split(';')[0];

test('verification regenerates the session id and carries the app keys and cookie lifetime over', async () => {
  const { app, clock } = appWith(new session.MemoryStore());
  const agent = supertest.agent(app);
  const login = await agent.post('/login').send({}).expect(200);
  const { secret } = await enrolTotp(agent, clock);
  clock.advance(60_000);
  const verify = await agent
    .post('/auth/mfa/totp/verify')
    .send({ code: totpCode(secret, clock) })
    .expect(200);
  assert.ok(sid(verify), 'a new session cookie is set');
  assert.notEqual(sid(verify), sid(login));
  const me = await agent.get('/me').expect(200);
  assert.deepEqual(me.body.user, { id: 'ada' });
  assert.deepEqual(me.body.cart, ['book']);
  // The new cookie keeps the app's lifetime. express-session recomputes originalMaxAge from `expires`
  // on load, so it reads a millisecond or two short; the Expires it sends is what a browser keeps.
  const week = 7 * 24 * 3600_000;
  assert.ok(Math.abs(me.body.cookie.originalMaxAge - week) < 5_000, String(me.body.cookie.originalMaxAge));
  const expires = /Expires=([^;]+)/.exec(
    ([] as string[]).concat(verify.headers['set-cookie'] ?? []).join(';'),
  )?.[1];
  assert.ok(expires, 'the elevated session cookie is persistent, as the app chose');
  assert.ok(Math.abs(Date.parse(expires) - (Date.now() + week)) < 60_000, expires);
  const { clients, ...state } = me.body.mfa;
  const verifiedAt = verify.body.verifiedAt;
  assert.deepEqual(state, { userId: 'ada', verifiedAt, methods: ['totp'], at: { totp: verifiedAt } });
  // The client is kept only as a keyed fingerprint (key id + 128 bits): no address in the session.
  assert.deepEqual(Object.keys(clients), ['totp']);
  assert.match(clients.totp, /^[\w-]{8}\.[\w-]{22}$/);
  // The old id is dead: replaying the pre-verification cookie is not signed in at all.
  const old = await supertest(app).get('/me').set('Cookie', sid(login)!).expect(200);
  assert.equal(old.body.user, undefined);
});

test('a session that cannot be saved is a 503, never a 200', async () => {
  const store = new FlakySessionStore();
  const { app, clock, logged } = appWith(store);
  const agent = supertest.agent(app);
  await agent.post('/login').send({}).expect(200);
  const { secret } = await enrolTotp(agent, clock);
  clock.advance(60_000);
  store.failWrites = true;
  const res = await agent
    .post('/auth/mfa/totp/verify')
    .send({ code: totpCode(secret, clock) })
    .expect(503);
  assert.equal(res.body.error, 'unavailable');
  // The new session was dropped with the failed save: express-session has nothing left to save at
  // the end of the 503 (so nothing reaches the app's error logger), no cookie names it, and no
  // verified session is in the store once writes work again.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(logged, []);
  assert.equal(sid(res), undefined);
  store.failWrites = false;
  const stored = await new Promise<Record<string, session.SessionData> | null | undefined>((resolve) =>
    store.all((_err, all) => resolve(all as Record<string, session.SessionData> | null | undefined)),
  );
  assert.ok(!Object.values(stored ?? {}).some((data) => data.mfa?.verifiedAt !== undefined));
  // The old session still works, not verified: the guard asks again.
  await agent.get('/me').expect(200);
});

test('methods accumulate across verifications in one session', async () => {
  const { app, clock } = appWith(new session.MemoryStore());
  const agent = supertest.agent(app);
  await agent.post('/login').send({}).expect(200);
  const { backupCodes } = await enrolTotp(agent, clock);
  await agent.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] }).expect(200);
  const me = await agent.get('/me').expect(200);
  assert.deepEqual(me.body.mfa.methods, ['totp', 'backup_codes']);
});
