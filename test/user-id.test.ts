import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import express from 'express';
import session from 'express-session';
import { generateSync } from 'otplib';
import supertest from 'supertest';
import { createMfa, MemoryStore } from '../lib/index.js';
import { normalizeUser, userIdOf } from '../lib/user-id.js';

const SECRET = 'test-secret-that-is-at-least-32-characters-long';

describe('userIdOf', () => {
  test('strings stay, whole numbers become their decimal string', () => {
    assert.equal(userIdOf('ada'), 'ada');
    assert.equal(userIdOf(42), '42');
    assert.equal(userIdOf(0), '0');
    assert.equal(userIdOf(42n), '42');
  });
  test('empty, fractional, unsafe and non-scalar ids are refused', () => {
    for (const id of ['', 4.2, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, null, undefined, {}, [42]]) {
      assert.equal(userIdOf(id), undefined, String(id));
    }
  });
  test('normalizeUser keeps the object when the id is already a string', () => {
    const user = { id: 'ada', email: 'a@x.test' };
    assert.equal(normalizeUser(user), user);
    assert.deepEqual(normalizeUser({ id: 42, email: 'a@x.test' }), { id: '42', email: 'a@x.test' });
  });
});

/** A Passport-like app: the user object carries a numeric SQL id. */
function numericApp() {
  const app = express();
  app.use(session({ secret: 's', resave: false, saveUninitialized: false }));
  let t = Date.UTC(2026, 0, 1, 12, 0, 10);
  const mfa = createMfa({
    issuer: 'Acme',
    store: new MemoryStore(),
    secret: SECRET,
    getUser: (req) => (req.session as unknown as { user?: { id: number; email: string } }).user,
    now: () => t,
  });
  app.post('/login', (req, res) => {
    (req.session as unknown as { user: { id: number; email: string } }).user = {
      id: 42,
      email: 'ada@x.test',
    };
    res.json({ ok: true });
  });
  app.use('/auth/mfa', mfa.router);
  app.get('/guarded', mfa.requireMfa(), (_req, res) => {
    res.json({ ok: true });
  });
  return { app, mfa, advance: (ms: number) => (t += ms), now: () => t };
}

test('a numeric id (Passport with SQL ids) enrols, verifies and passes the guard; 42 and "42" are one user', async () => {
  const { app, mfa, advance, now } = numericApp();
  const agent = supertest.agent(app);
  await agent.post('/login').expect(200);
  const setup = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
  assert.match(setup.body.uri, /ada%40x\.test/);
  const code = () => generateSync({ secret: setup.body.secret, epoch: Math.floor(now() / 1000) });
  await agent.post('/auth/mfa/totp/confirm').send({ code: code() }).expect(200);
  await agent.get('/guarded').expect(200);
  advance(10 * 60_000);
  await agent.get('/guarded').expect(401);
  await agent.post('/auth/mfa/totp/verify').send({ code: code() }).expect(200);
  await agent.get('/guarded').expect(200);

  assert.deepEqual(await mfa.factors(42), ['totp', 'backup_codes']);
  assert.deepEqual(await mfa.factors('42'), ['totp', 'backup_codes']);
  const byNumber = await mfa.admin.factors(42);
  const byObject = await mfa.admin.factors({ id: 42, email: 'ada@x.test' });
  assert.deepEqual(byNumber, await mfa.admin.factors('42'));
  assert.deepEqual(byObject, byNumber);
  assert.deepEqual(
    byNumber.map((f) => f.factor),
    ['totp', 'backup_codes'],
  );
  await assert.rejects(mfa.factors(4.2 as number), /a non-empty string or a whole number/);
  await assert.rejects(mfa.admin.factors(Number.NaN), /a non-empty string or a whole number/);
});

test('a getUser id that is neither a string nor a whole number is a 500 with a sentence in the log, not a pass', async () => {
  const app = express();
  app.use(session({ secret: 's', resave: false, saveUninitialized: false }));
  const logged: string[] = [];
  const mfa = createMfa({
    issuer: 'Acme',
    store: new MemoryStore(),
    secret: SECRET,
    getUser: () => ({ id: 4.5 }),
    logger: {
      warn: (m: string) => logged.push(m),
      error: (m: string, detail?: string) => logged.push(`${m} ${detail}`),
    },
  });
  app.use('/auth/mfa', mfa.router);
  const res = await supertest(app).get('/auth/mfa/').expect(500);
  assert.equal(res.body.error, 'internal');
  assert.ok(logged.some((line) => line.includes('getUser(req) must return { id: string | number')));
});
