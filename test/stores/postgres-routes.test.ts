import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { PostgresStore } from '../../lib/stores/postgres-store.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres-server.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { enrolTotp, makeTestApp, totpCode } from '../helpers/test-app.js';

let database: TestPostgres;
let pool: pg.Pool;
let sessions: TestRedis;

before(async () => {
  [database, sessions] = await Promise.all([startPostgres(), startRedis()]);
  pool = database.pool();
});
after(async () => {
  await database.close();
  await sessions.close();
});

test('TOTP enrol, verify and a refused replay, with MFA records in PostgreSQL and sessions in Redis', async () => {
  const table = `routes_${process.pid}`;
  const store = new PostgresStore({ pool, table });
  await store.ready();
  const redis = sessions.client();
  const t = await makeTestApp(redis, { store, prefix: 'pg:' });

  const owner = await t.signIn('ada');
  const { secret, backupCodes } = await enrolTotp(owner, t.clock);
  assert.equal(backupCodes.length, 10);

  const agent = await t.signIn('ada');
  await agent.get('/guarded').expect(401);
  t.clock.advance(60_000);
  const code = totpCode(secret, t.clock);
  await agent.post('/auth/mfa/totp/verify').send({ code }).expect(200);
  await agent.get('/guarded').expect(200);

  // The same code from another session: its time step is used up, whoever presents it.
  const thief = await t.signIn('ada');
  const replay = await thief.post('/auth/mfa/totp/verify').send({ code }).expect(401);
  assert.equal(replay.body.error, 'invalid_code');
  await thief.get('/guarded').expect(401);
  // Parallel redemptions of the next step: exactly one session gets through.
  t.clock.advance(30_000);
  const next = totpCode(secret, t.clock);
  const racers = await Promise.all(Array.from({ length: 8 }, () => t.signIn('ada')));
  const answers = await Promise.all(racers.map((a) => a.post('/auth/mfa/totp/verify').send({ code: next })));
  // The losers are refused as a used code (401) or, once the attempt limit is reached, locked (429).
  const statuses = answers.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(' '));
  assert.ok(
    statuses.every((s) => s === 200 || s === 401 || s === 429),
    statuses.join(' '),
  );

  // The records are rows in PostgreSQL (the secret encrypted); Redis holds only sessions.
  const { rows } = await pool.query(`SELECT key, value, members FROM ${table} ORDER BY key`);
  const keys = rows.map((r) => r.key);
  assert.ok(keys.includes('{u:YWRh}:totp'), keys.join(', '));
  assert.ok(keys.includes('{u:YWRh}:backup-codes'));
  assert.ok(keys.includes('{u:YWRh}:totp:last-step'));
  const totpRow = rows.find((r) => r.key === '{u:YWRh}:totp');
  assert.ok(!String(totpRow.value).includes(secret), 'the TOTP secret is stored encrypted');
  assert.equal(rows.find((r) => r.key === '{u:YWRh}:backup-codes').members.length, 10);
  assert.deepEqual(
    (await redis.keys('*')).filter((k) => !k.startsWith('pg:sess:')),
    [],
  );
});

test('while PostgreSQL is down, verification answers 503 and nothing passes; then it works again', async (t) => {
  if (process.env.DATABASE_URL) return t.skip('cannot stop the server at DATABASE_URL');
  const outagePool = database.pool({ connectionTimeoutMillis: 500 });
  const store = new PostgresStore({
    pool: outagePool,
    table: `outage_${process.pid}`,
    commandTimeoutMs: 1000,
  });
  const app = await makeTestApp(sessions.client(), { store, prefix: 'pgdown:' });
  const owner = await app.signIn('grace');
  const { secret } = await enrolTotp(owner, app.clock);
  const agent = await app.signIn('grace');
  app.clock.advance(60_000);

  await database.stop();
  try {
    const res = await agent.post('/auth/mfa/totp/verify').send({ code: totpCode(secret, app.clock) });
    assert.equal(res.status, 503);
    assert.equal(res.body.error, 'unavailable');
    assert.notEqual((await agent.get('/guarded')).status, 200);
  } finally {
    await database.start();
  }
  // Idle clients died with the server; the pool replaces them, the app is not restarted.
  let status = 0;
  for (let i = 0; i < 5 && status !== 200; i++) {
    status = (await agent.post('/auth/mfa/totp/verify').send({ code: totpCode(secret, app.clock) })).status;
  }
  assert.equal(status, 200);
  await agent.get('/guarded').expect(200);
});
