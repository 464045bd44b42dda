import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { countRoundTrips } from '../helpers/round-trips.js';
import { enrolTotp, makeTestApp, totpCode } from '../helpers/test-app.js';

/**
 * The README recommends ioredis's `enableAutoPipelining` on a single Redis (the commands of one tick
 * go out in one write). Single use must not depend on how commands are batched: the checks are
 * Lua scripts, whatever shares their write.
 */
let server: TestRedis;
let client: Redis;
before(async () => {
  server = await startRedis();
  client = server.client({ enableAutoPipelining: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await new Promise((resolve) => client.once('ready', resolve));
});
after(async () => {
  client.disconnect();
  await server.close();
});

test('auto-pipelined: 20 parallel verifications of one TOTP code, exactly one succeeds', async () => {
  const t = await makeTestApp(client);
  const { secret } = await enrolTotp(await t.signIn('ada'), t.clock);
  t.clock.advance(60_000);
  const agents = await Promise.all(Array.from({ length: 20 }, () => t.signIn('ada')));
  const code = totpCode(secret, t.clock);
  const statuses = await Promise.all(
    agents.map(async (agent) => (await agent.post('/auth/mfa/totp/verify').send({ code })).status),
  );
  assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(' '));
  // Replays are failures: refused, counted, and past the limit locked out.
  assert.ok(
    statuses.every((s) => s === 200 || s === 401 || s === 429),
    statuses.join(' '),
  );
});

test('auto-pipelined: 20 parallel redemptions of one backup code, exactly one succeeds', async () => {
  const t = await makeTestApp(client);
  const { backupCodes } = await enrolTotp(await t.signIn('bob'), t.clock);
  const agents = await Promise.all(Array.from({ length: 20 }, () => t.signIn('bob')));
  const answers = await Promise.all(
    agents.map((agent) => agent.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] })),
  );
  const ok = answers.filter((r) => r.status === 200);
  assert.equal(ok.length, 1, answers.map((r) => r.status).join(' '));
  assert.equal(ok[0]!.body.remaining, 9);
});

test('auto-pipelined: a TOTP step-up still waits for 4 round trips and elevates the session', async () => {
  const t = await makeTestApp(client);
  const { secret } = await enrolTotp(await t.signIn('cyd'), t.clock);
  t.clock.advance(60_000);
  const agent = await t.signIn('cyd');
  const counter = countRoundTrips(client);
  const res = await agent.post('/auth/mfa/totp/verify').send({ code: totpCode(secret, t.clock) });
  counter.stop();
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(counter.count, 4);
  await agent.get('/guarded').expect(200);
});
