import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { enrolTotp, makeTestApp, totpCode, wrongCode } from './helpers/test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

test('every flow reports typed events with user, factor, time and ip, and never a secret or code', async () => {
  const t = await makeTestApp(redis.client(), { limits: { maxFailures: 2 } });
  const agent = await t.signIn('ada');
  const { secret, backupCodes } = await enrolTotp(agent, t.clock);
  t.clock.advance(60_000);
  const used: string[] = [secret, ...backupCodes, ...backupCodes.map((c) => c.replaceAll('-', ''))];
  const good = totpCode(secret, t.clock);
  used.push(good);
  await agent.post('/auth/mfa/totp/verify').send({ code: good }).expect(200);
  await agent.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] }).expect(200);
  const regenerated = await agent.post('/auth/mfa/backup-codes').send({}).expect(200);
  used.push(...regenerated.body.backupCodes);
  for (let i = 0; i < 2; i++) {
    const wrong = wrongCode(secret, t.clock, i * 1000);
    used.push(wrong);
    await agent.post('/auth/mfa/totp/verify').send({ code: wrong }).expect(401);
  }
  t.clock.advance(16 * 60_000);
  const fresh = totpCode(secret, t.clock);
  used.push(fresh);
  await agent.post('/auth/mfa/totp/verify').send({ code: fresh }).expect(200);
  await agent.delete('/auth/mfa/totp').send({}).expect(200);

  assert.deepEqual(
    t.events.map((e) => `${e.type}:${e.factor}`),
    [
      'enrolled:totp',
      'verified:totp',
      'backup_code_used:backup_codes',
      'verified:backup_codes',
      'backup_codes_regenerated:backup_codes',
      'failed:totp',
      'failed:totp',
      'locked:totp',
      'verified:totp',
      'factor_removed:totp',
    ],
  );
  for (const event of t.events) {
    assert.equal(event.userId, 'ada');
    assert.equal(typeof event.at, 'number');
    assert.match(event.ip ?? '', /127\.0\.0\.1/);
  }
  // Numbers (times, counts) may contain any digits by chance; codes and secrets would be strings.
  const strings = t.events.flatMap((e) => Object.values(e).filter((v): v is string => typeof v === 'string'));
  for (const value of used) {
    assert.ok(!strings.some((s) => s.includes(value)), `an event carries ${value}`);
  }
  assert.ok(t.events.every((e) => !('code' in e) && !('secret' in e)));
});

test('a throwing or rejecting listener never breaks a flow', async () => {
  for (const onEvent of [
    () => {
      throw new Error('listener down');
    },
    () => Promise.reject(new Error('listener down')),
  ]) {
    const t = await makeTestApp(redis.client(), { onEvent });
    const agent = await t.signIn('bob');
    await enrolTotp(agent, t.clock);
    await agent.get('/guarded').expect(200);
  }
});
