import assert from 'node:assert/strict';
import { test } from 'node:test';
import express, { type RequestHandler } from 'express';
import session from 'express-session';
import supertest from 'supertest';
import { createMfa, MemoryStore, type MfaOptions } from '../lib/index.js';
import { keys } from '../lib/keys.js';

const SECRET = 'test-secret-that-is-at-least-32-characters-long';

function mfaWith(overrides: Partial<MfaOptions> = {}) {
  const logged: string[] = [];
  const store = new MemoryStore();
  const mfa = createMfa({
    issuer: 'Acme',
    store,
    secret: SECRET,
    getUser: () => ({ id: 'ada' }),
    logger: { warn: (m) => logged.push(m), error: (m) => logged.push(`error ${m}`) },
    ...overrides,
  });
  return { mfa, logged, store };
}

test('no session middleware before the router: 503 and one sentence that says what to add', async () => {
  const { mfa, logged } = mfaWith();
  const app = express();
  app.use('/auth/mfa', mfa.router);
  app.use(session({ secret: 's', resave: false, saveUninitialized: false })); // too late
  for (let i = 0; i < 3; i++) await supertest(app).post('/auth/mfa/totp/setup').send({}).expect(503);
  assert.deepEqual(logged, [
    'express-mfa: no session on the request: either no session middleware runs before app.use(path, mfa.router), or its store is not connected. Add app.use(mfa.session(session({ ... }))) before the router (mfa.session also reports store outages).',
  ]);
});

test('a session store that never connects, without mfa.session: 503 and one sentence that says to wrap it', async () => {
  const { mfa, logged } = mfaWith();
  const store = new session.MemoryStore();
  const app = express();
  app.use(session({ store, secret: 's', resave: false, saveUninitialized: false }));
  store.emit('disconnect'); // express-session now goes on without a session
  app.use('/auth/mfa', mfa.router);
  for (let i = 0; i < 3; i++) await supertest(app).post('/auth/mfa/totp/setup').send({}).expect(503);
  assert.deepEqual(logged, [
    'express-mfa: no session on the request: either no session middleware runs before app.use(path, mfa.router), or its store is not connected. Add app.use(mfa.session(session({ ... }))) before the router (mfa.session also reports store outages).',
  ]);
});

test('the router mounted without a path says so once and leaves the app its routes', async () => {
  const { mfa, logged } = mfaWith();
  const app = express();
  app.use(session({ secret: 's', resave: false, saveUninitialized: false }));
  app.use(mfa.router);
  app.post('/login', express.urlencoded({ extended: false }), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/later', (_req, res) => {
    res.json({ ok: true });
  });
  await supertest(app).get('/later').expect(200);
  await supertest(app).post('/login').type('form').send('a=b').expect(200);
  assert.deepEqual(logged, [
    "express-mfa: the router is mounted without a path: use app.use('/auth/mfa', mfa.router). It ignores every request until then.",
  ]);
});

/** What cookie-session gives a request: a plain object, with no `regenerate`. */
const cookieSessionLike: RequestHandler = (req, _res, next) => {
  (req as unknown as { session: object }).session = {};
  next();
};

test('a session middleware that cannot regenerate is refused before anything is written', async () => {
  const { mfa, logged, store } = mfaWith();
  const app = express();
  app.use(cookieSessionLike);
  app.use('/auth/mfa', mfa.router);
  const res = await supertest(app).post('/auth/mfa/totp/setup').send({}).expect(503);
  assert.equal(res.body.error, 'unavailable');
  assert.equal(res.headers['cache-control'], 'no-store', 'the refusal is not cached either');
  await supertest(app).post('/auth/mfa/totp/confirm').send({ code: '123456' }).expect(503);
  assert.equal(await store.get(keys.totpPending('ada')), null);
  assert.equal(await store.get(keys.totp('ada')), null);
  assert.deepEqual(logged, [
    'express-mfa: the session middleware cannot regenerate or save sessions (cookie-session cannot): use express-session.',
  ]);
});

test('MemoryStore under NODE_ENV=production is a warning at createMfa', () => {
  const before = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    const { logged } = mfaWith();
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /^express-mfa: MemoryStore under NODE_ENV=production .* use RedisStore\.$/);
  } finally {
    if (before === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = before;
  }
  assert.deepEqual(mfaWith().logged, [], 'not outside production');
});

test('a Buffer secret is reported as a Buffer, not as missing', () => {
  for (const secret of [Buffer.alloc(32, 1), [Buffer.alloc(32, 1)]]) {
    assert.throws(
      () => mfaWith({ secret: secret as never }),
      /`secret` must be a string, not a Buffer: .*toString\('base64'\)/,
    );
  }
});

test('a logger without warn and error is an options error', () => {
  assert.throws(() => mfaWith({ logger: { info() {} } as never }), /`logger` must have `warn\(message\)`/);
});
