import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { enrolTotp, makeTestApp, totpCode } from '../../helpers/test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

test('a backup code elevates the session once, in any case or spacing, and the count drops', async () => {
  const t = await makeTestApp(redis.client());
  const owner = await t.signIn('ada');
  const { backupCodes } = await enrolTotp(owner, t.clock);
  const agent = await t.signIn('ada');
  await agent.get('/guarded').expect(401);
  const typed = backupCodes[0]!.toUpperCase().replaceAll('-', ' ');
  const res = await agent.post('/auth/mfa/backup-codes/verify').send({ code: typed }).expect(200);
  assert.equal(res.body.remaining, 9);
  assert.equal(res.body.verifiedAt, t.clock.now());
  await agent.get('/guarded').expect(200);
  const again = await agent.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] }).expect(401);
  assert.equal(again.body.error, 'invalid_code');
  const status = await agent.get('/auth/mfa/').expect(200);
  assert.equal(status.body.backupCodes.remaining, 9);
  const used = t.events.find((e) => e.type === 'backup_code_used');
  assert.equal(used?.type === 'backup_code_used' && used.remaining, 9);
});

test('20 concurrent redemptions of one backup code: exactly one succeeds', async () => {
  const t = await makeTestApp(redis.client());
  const owner = await t.signIn('bob');
  const { backupCodes } = await enrolTotp(owner, t.clock);
  const agents = await Promise.all(Array.from({ length: 20 }, () => t.signIn('bob')));
  const results = await Promise.all(
    agents.map((a) => a.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[3] })),
  );
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
  assert.ok(
    statuses.every((s) => s === 200 || s === 401 || s === 429),
    statuses.join(','),
  );
  assert.equal((await owner.get('/auth/mfa/').expect(200)).body.backupCodes.remaining, 9);
});

test("one user's code does not work for another", async () => {
  const t = await makeTestApp(redis.client());
  const a = await t.signIn('cyd');
  const b = await t.signIn('dee');
  const codesA = (await enrolTotp(a, t.clock)).backupCodes;
  await enrolTotp(b, t.clock);
  await b.post('/auth/mfa/backup-codes/verify').send({ code: codesA[0] }).expect(401);
});

test('codes are stored only as keyed hashes', async () => {
  const client = redis.client();
  const t = await makeTestApp(client, { prefix: 'hash:' });
  const agent = await t.signIn('eve');
  const { backupCodes } = await enrolTotp(agent, t.clock);
  const setKey = (await client.keys('hash:mfa:*backup-codes'))[0]!;
  const members = await client.smembers(setKey);
  assert.equal(members.length, 10);
  const stored = members.join(' ');
  for (const code of backupCodes) {
    assert.ok(!stored.includes(code) && !stored.includes(code.replaceAll('-', '')), 'code stored in clear');
  }
  for (const member of members) assert.match(member, /^[\w-]{8}\.[\w-]{43}$/);
});

test('locks after 5 failures like any factor, independently of TOTP', async () => {
  const t = await makeTestApp(redis.client());
  const agent = await t.signIn('fay');
  const { secret, backupCodes } = await enrolTotp(agent, t.clock);
  for (let i = 0; i < 5; i++) {
    await agent.post('/auth/mfa/backup-codes/verify').send({ code: 'zzzz-zzzz-zzzz-zzzz' }).expect(401);
  }
  const locked = await agent.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[1] }).expect(429);
  assert.equal(locked.headers['retry-after'], '900');
  t.clock.advance(60_000);
  await agent
    .post('/auth/mfa/totp/verify')
    .send({ code: totpCode(secret, t.clock) })
    .expect(200);
});

test('no codes is 403 not_enrolled; malformed codes are a plain invalid code', async () => {
  const t = await makeTestApp(redis.client());
  const agent = await t.signIn('gil');
  const none = await agent
    .post('/auth/mfa/backup-codes/verify')
    .send({ code: 'abcd-abcd-abcd-abcd' })
    .expect(403);
  assert.equal(none.body.error, 'not_enrolled');
  await enrolTotp(agent, t.clock);
  const res = await agent.post('/auth/mfa/backup-codes/verify').send({ code: 'not a code' }).expect(401);
  assert.equal(res.body.error, 'invalid_code');
});

test('regenerating needs a fresh MFA, voids the old set and returns 10 new codes uncached', async () => {
  const t = await makeTestApp(redis.client());
  const agent = await t.signIn('hal');
  const { secret, backupCodes: old } = await enrolTotp(agent, t.clock);
  t.clock.advance(6 * 60_000);
  const stale = await agent.post('/auth/mfa/backup-codes').send({}).expect(401);
  assert.equal(stale.body.error, 'mfa_expired');
  await agent
    .post('/auth/mfa/totp/verify')
    .send({ code: totpCode(secret, t.clock) })
    .expect(200);
  const res = await agent.post('/auth/mfa/backup-codes').send({}).expect(200);
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.equal(res.body.backupCodes.length, 10);
  assert.equal(new Set([...res.body.backupCodes, ...old]).size, 20);
  await agent.post('/auth/mfa/backup-codes/verify').send({ code: old[0] }).expect(401);
  await agent.post('/auth/mfa/backup-codes/verify').send({ code: res.body.backupCodes[0] }).expect(200);
  assert.ok(t.events.some((e) => e.type === 'backup_codes_regenerated'));
});

test('regenerating without a factor is 403 not_enrolled', async () => {
  const t = await makeTestApp(redis.client());
  const agent = await t.signIn('ike');
  const res = await agent.post('/auth/mfa/backup-codes').send({}).expect(403);
  assert.equal(res.body.error, 'not_enrolled');
});
