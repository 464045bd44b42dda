import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { enrolTotp, makeTestApp, totpCode } from '../../helpers/test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

test('a TOTP step-up sends 4 Redis commands beyond loading the session: secret, attempt, old and new session', async () => {
  const client = redis.client();
  const t = await makeTestApp(client);
  const agent = await t.signIn('ada');
  const { secret } = await enrolTotp(agent, t.clock);
  t.clock.advance(60_000);
  const fresh = await t.signIn('ada');

  // MONITOR shows every command a client sends; commands run inside a Lua script are marked "lua".
  const monitor = await redis.client().monitor();
  const sent: string[] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (!source.includes('lua')) sent.push(args[0]!.toLowerCase());
  });
  await fresh
    .post('/auth/mfa/totp/verify')
    .send({ code: totpCode(secret, t.clock) })
    .expect(200);
  // MONITOR is asynchronous: a PING from the client marks the end of what the request sent.
  await client.ping();
  await new Promise<void>((resolve) => {
    const check = () => (sent.includes('ping') ? resolve() : setImmediate(check));
    check();
  });
  monitor.disconnect();
  sent.splice(sent.indexOf('ping'));
  assert.deepEqual(sent.sort(), ['del', 'evalsha', 'get', 'get', 'set'], sent.join(' '));
  // The elevated session still works on the next request (nothing skipped that mattered).
  await fresh.get('/guarded').expect(200);
});
