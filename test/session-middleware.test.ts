import assert from 'node:assert/strict';
import { test } from 'node:test';
import express from 'express';
import session from 'express-session';
import supertest from 'supertest';
import { createMfa, MemoryStore } from '../lib/index.js';

const SECRET = 'test-secret-that-is-at-least-32-characters-long';

/** An express-session store that fails while `down` is true (as connect-redis does in an outage). */
class FlakyStore extends session.MemoryStore {
  down = false;
  override get(sid: string, callback: (err: unknown, session?: session.SessionData | null) => void) {
    if (this.down) return callback(new Error('Connection is closed.'));
    super.get(sid, callback);
  }
}

function appWith(store: session.Store) {
  const logged: string[] = [];
  const mfa = createMfa({
    issuer: 'Acme',
    store: new MemoryStore(),
    secret: SECRET,
    getUser: () => undefined,
    logger: { warn: (m) => logged.push(`warn ${m}`), error: (m) => logged.push(`error ${m}`) },
  });
  const app = express();
  app.use(mfa.session(session({ store, secret: 's', resave: false, saveUninitialized: true })));
  app.use('/auth/mfa', mfa.router);
  app.get('/home', (_req, res) => {
    res.json({ ok: true });
  });
  return { app, logged };
}

test('a session-store failure is 503 unavailable JSON for every request, logged once per outage', async () => {
  const store = new FlakyStore();
  const { app, logged } = appWith(store);
  const agent = supertest.agent(app);
  await agent.get('/home').expect(200); // a cookie, so the next requests load a session from the store
  store.down = true;
  for (const path of ['/home', '/auth/mfa/', '/home']) {
    const res = await agent.get(path).expect(503);
    assert.deepEqual(res.body, {
      error: 'unavailable',
      message: 'Sessions are unavailable right now. Try again shortly.',
    });
    assert.equal(res.headers['cache-control'], 'no-store');
  }
  assert.deepEqual(logged, [
    'error express-mfa: the session store failed: Connection is closed.; every request is answered 503 until it recovers.',
  ]);
  store.down = false;
  await agent.get('/home').expect(200);
  store.down = true;
  await agent.get('/home').expect(503);
  assert.equal(logged.length, 2, 'a new outage is logged again');
});

test('a browser that asks for HTML gets a page, not JSON or a stack trace', async () => {
  const store = new FlakyStore();
  const { app } = appWith(store);
  const agent = supertest.agent(app);
  await agent.get('/home').expect(200);
  store.down = true;
  const res = await agent
    .get('/home')
    .set('Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')
    .expect(503)
    .expect('Content-Type', /text\/html/);
  assert.match(res.text, /Temporarily unavailable/);
  assert.doesNotMatch(res.text, /at .*\.js:\d+/);
});

test('a store that never connects (express-session goes on without a session) is 503 and said once', async () => {
  const store = new FlakyStore();
  const { app, logged } = appWith(store);
  store.emit('disconnect');
  await supertest(app).get('/home').expect(503);
  await supertest(app).post('/auth/mfa/totp/setup').send({}).expect(503);
  assert.deepEqual(logged, [
    'error express-mfa: the session store is not connected (express-session went on without a session); every request is answered 503 until it recovers.',
  ]);
});

test('mfa.session refuses what is not a middleware', () => {
  const mfa = createMfa({
    issuer: 'Acme',
    store: new MemoryStore(),
    secret: SECRET,
    getUser: () => undefined,
  });
  assert.throws(() => mfa.session(undefined as never), /mfa\.session\(session\(\{ \.\.\. \}\)\)/);
});

test("onUnavailable answers an outage the app's own way (its styled page); a throwing one falls back", async () => {
  const store = new FlakyStore();
  const mfa = createMfa({
    issuer: 'Acme',
    store: new MemoryStore(),
    secret: SECRET,
    getUser: () => undefined,
    logger: { warn: () => {}, error: () => {} },
  });
  const seen: string[] = [];
  const app = express();
  app.use(
    mfa.session(session({ store, secret: 's', resave: false, saveUninitialized: true }), {
      onUnavailable: (req, res, error) => {
        seen.push(error.code);
        if (req.path === '/broken') throw new Error('the page template is missing');
        res.status(503).type('html').send('<h1>Our own outage page</h1>');
      },
    }),
  );
  app.get(['/home', '/broken'], (_req, res) => {
    res.json({ ok: true });
  });
  const agent = supertest.agent(app);
  await agent.get('/home').expect(200);
  store.down = true;
  const res = await agent.get('/home').expect(503);
  assert.equal(res.text, '<h1>Our own outage page</h1>');
  assert.equal(res.headers['cache-control'], 'no-store');
  const fallback = await agent.get('/broken').expect(503);
  assert.equal(fallback.body.error, 'unavailable');
  assert.deepEqual(seen, ['unavailable', 'unavailable']);
  assert.throws(
    () => mfa.session((_req, _res, next) => next(), { onUnavailable: 'page' as never }),
    /onUnavailable must be/,
  );
});
