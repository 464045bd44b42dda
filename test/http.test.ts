import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import supertest from 'supertest';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { makeTestApp } from './helpers/test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

test('state-changing routes take only application/json (415), even with an empty body', async () => {
  const t = await makeTestApp(redis.client());
  const agent = await t.signIn('ada');
  const form = await agent.post('/auth/mfa/totp/setup').type('form').send('a=1').expect(415);
  assert.equal(form.body.error, 'unsupported_media_type');
  assert.match(form.body.message, /application\/json/);
  await agent.post('/auth/mfa/totp/verify').type('text/plain').send('{"code":"123456"}').expect(415);
  await agent.delete('/auth/mfa/totp').expect(415);
  // The header alone is enough when there is nothing to say.
  const empty = await agent.delete('/auth/mfa/totp').set('Content-Type', 'application/json').expect(403);
  assert.equal(empty.body.error, 'not_enrolled');
  await agent
    .post('/auth/mfa/totp/setup')
    .set('Content-Type', 'application/json; charset=utf-8')
    .send('{}')
    .expect(200);
});

test('malformed JSON is 400, an oversized body 413, both in the contract shape', async () => {
  const t = await makeTestApp(redis.client());
  const agent = await t.signIn('bob');
  const bad = await agent
    .post('/auth/mfa/totp/verify')
    .set('Content-Type', 'application/json')
    .send('{"code":')
    .expect(400);
  assert.deepEqual(Object.keys(bad.body).sort(), ['error', 'message']);
  assert.equal(bad.body.error, 'invalid_request');
  const big = await agent
    .post('/auth/mfa/totp/verify')
    .send({ code: 'x'.repeat(20_000) })
    .expect(413);
  assert.equal(big.body.error, 'payload_too_large');
});

test('compressed, mis-sized or wrongly encoded bodies are client errors, never a 500', async () => {
  const t = await makeTestApp(redis.client());
  const agent = await t.signIn('gzip');
  const gzip = await agent
    .post('/auth/mfa/totp/verify')
    .set('Content-Type', 'application/json')
    .set('Content-Encoding', 'gzip')
    .send('not gzip at all')
    .expect(415);
  assert.equal(gzip.body.error, 'unsupported_media_type');
  const charset = await agent
    .post('/auth/mfa/totp/verify')
    .set('Content-Type', 'application/json; charset=klingon')
    .send('{}')
    .expect(415);
  assert.equal(charset.body.error, 'unsupported_media_type');
});

test('unknown routes are 404 not_found in JSON', async () => {
  const t = await makeTestApp(redis.client());
  const res = await supertest(t.app).get('/auth/mfa/nope').expect(404);
  assert.equal(res.body.error, 'not_found');
  assert.match(res.headers['content-type'] ?? '', /application\/json/);
});

test('OPTIONS names the methods of a route, on every factor, and is 404 where there is none', async () => {
  const t = await makeTestApp(redis.client());
  for (const [path, allow] of [
    ['/auth/mfa/totp/verify', 'POST'],
    ['/auth/mfa/totp', 'DELETE'],
    ['/auth/mfa/backup-codes', 'POST'],
    ['/auth/mfa/backup-codes/verify', 'POST'],
  ] as const) {
    const res = await supertest(t.app).options(path).expect(200);
    assert.equal(res.headers.allow, allow, path);
  }
  await supertest(t.app).options('/auth/mfa/nope').expect(404);
});

test('every MFA answer is uncached, errors included', async () => {
  const t = await makeTestApp(redis.client());
  const agent = await t.signIn('cyd');
  for (const res of [
    await agent.get('/auth/mfa/'),
    await agent.get('/auth/mfa/nope'),
    await agent.post('/auth/mfa/totp/verify').send({}),
  ]) {
    assert.equal(res.headers['cache-control'], 'no-store');
  }
});

test('an unexpected error is 500 internal with no detail', async () => {
  const t = await makeTestApp(redis.client(), {
    getUser: () => {
      throw new Error('database password is hunter2');
    },
  });
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    const res = await supertest(t.app).get('/auth/mfa/').expect(500);
    assert.deepEqual(Object.keys(res.body).sort(), ['error', 'message']);
    assert.equal(res.body.error, 'internal');
    assert.ok(!JSON.stringify(res.body).includes('hunter2'));
    assert.equal(logged.length, 1, 'the operator still hears about it');
  } finally {
    console.error = original;
  }
});

test('GET / describes the account for its page', async () => {
  const t = await makeTestApp(redis.client());
  const agent = await t.signIn('dee');
  const res = await agent.get('/auth/mfa/').expect(200);
  assert.deepEqual(res.body, {
    userId: 'dee',
    factors: [],
    totp: { enrolled: false },
    backupCodes: { remaining: 0, low: false },
    locks: {},
    verifiedAt: null,
    verified: false,
    verifiedUntil: null,
    phishingResistant: [],
    recovery: null,
    signIn: null,
    pending: { totpSetup: null, phoneSetup: null, emailCode: null, smsCode: null },
  });
  await supertest(t.app).get('/auth/mfa/').expect(401);
});

test('a malformed %-escape in a path parameter is a 400, never a 500', async () => {
  const t = await makeTestApp(redis.client(), {
    webauthn: { rpId: 'example.com', rpName: 'Acme', origin: 'https://example.com' },
  });
  const agent = await t.signIn('pct');
  for (const method of ['patch', 'delete'] as const) {
    const res = await agent[method]('/auth/mfa/webauthn/credentials/%E0%A4%A').send({}).expect(400);
    assert.equal(res.body.error, 'invalid_request');
  }
});
