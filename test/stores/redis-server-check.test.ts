import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisStore } from '../../lib/stores/redis-store.js';
import { StoreMisconfiguredError, StoreUnavailableError } from '../../lib/stores/store.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { enrolTotp, makeTestApp, totpCode } from '../helpers/test-app.js';

/** A logger that keeps what it is told. */
function recordingLogger() {
  const warnings: string[] = [];
  const errors: string[] = [];
  return {
    warnings,
    errors,
    logger: { warn: (m: string) => warnings.push(m), error: (m: string) => errors.push(m) },
  };
}

async function connected(server: TestRedis): Promise<Redis> {
  const client = server.client();
  client.on('error', () => {});
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  return client;
}

function misconfigured(policy: string) {
  return (error: unknown) => {
    assert.ok(error instanceof StoreMisconfiguredError, `expected StoreMisconfiguredError, got ${error}`);
    // Routes answer 503 for it, like any store that cannot answer.
    assert.ok(error instanceof StoreUnavailableError);
    assert.match(error.message, new RegExp(`maxmemory-policy "${policy}"`));
    assert.match(error.message, /CONFIG SET maxmemory-policy noeviction/);
    return true;
  };
}

describe('RedisStore on a Redis that may evict keys without a TTL (allkeys-lru)', () => {
  let server: TestRedis;
  let client: Redis;
  before(async () => {
    server = await startRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    client = await connected(server);
  });
  after(() => server.close());

  test('ready() rejects with the fix in the sentence, logged once as an error', async () => {
    const { logger, errors, warnings } = recordingLogger();
    const store = new RedisStore({ client, logger, prefix: 'lru1:' });
    await assert.rejects(store.ready(), misconfigured('allkeys-lru'));
    await assert.rejects(store.ready(), misconfigured('allkeys-lru'));
    assert.equal(errors.length, 1);
    assert.match(
      errors[0]!,
      /^RedisStore refuses to run: Redis 127\.0\.0\.1:\d+ has maxmemory-policy "allkeys-lru"/,
    );
    assert.deepEqual(warnings, []);
  });

  test('every store call rejects and nothing is written', async () => {
    const { logger, errors } = recordingLogger();
    const store = new RedisStore({ client, logger, prefix: 'lru2:' });
    const key = '{u:a}:k';
    const limits = { limit: 3, windowMs: 60_000, lockMs: 60_000, now: Date.now() };
    const calls = [
      () => store.set(key, 'v'),
      () => store.get(key),
      () => store.take(key),
      () => store.delete(key),
      () => store.replaceSet(key, ['a']),
      () => store.addToSet(key, 'a'),
      () => store.countSet(key),
      () => store.members(key),
      () => store.ttl(key),
      () => store.failures(key, limits.now),
      () => store.attempt({ failKey: '{u:a}:f', ...limits, action: { kind: 'check', ok: true } }),
    ];
    // In parallel first: the one check in flight refuses them all.
    await Promise.all(calls.map((call) => assert.rejects(call(), misconfigured('allkeys-lru'))));
    for (const call of calls) await assert.rejects(call(), misconfigured('allkeys-lru'));
    assert.equal(errors.length, 1);
    assert.deepEqual(await client.keys('lru2:*'), []);
  });

  test('a record enrolled under noeviction is never verified once the policy is allkeys-lru', async () => {
    await client.config('SET', 'maxmemory-policy', 'noeviction');
    try {
      const { logger } = recordingLogger();
      const prefix = `lru3${Date.now()}:`;
      const good = await makeTestApp(client, { prefix, store: new RedisStore({ client, logger, prefix }) });
      const agent = await good.signIn('ada');
      const { secret } = await enrolTotp(agent, good.clock);
      await client.config('SET', 'maxmemory-policy', 'allkeys-lru');

      // The app restarted (a new store) against the same server, now a cache.
      const { logger: quiet, errors } = recordingLogger();
      const bad = await makeTestApp(client, {
        prefix,
        store: new RedisStore({ client, logger: quiet, prefix }),
      });
      const again = await bad.signIn('ada');
      bad.clock.set(good.clock.now() + 60_000);
      const res = await again.post('/auth/mfa/totp/verify').send({ code: totpCode(secret, bad.clock) });
      assert.equal(res.status, 503);
      assert.equal(res.body.error, 'unavailable');
      // The guard's refusal lists the user's factors, which it cannot read: 503 as well, no pass.
      await again.get('/guarded').expect(503);
      assert.equal(errors.length, 1);
    } finally {
      await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    }
  });
});

describe('RedisStore accepts the policies that never evict a key without a TTL', () => {
  let server: TestRedis;
  before(async () => {
    server = await startRedis();
  });
  after(() => server.close());

  for (const policy of ['noeviction', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']) {
    test(policy, async () => {
      const client = await connected(server);
      await client.config('SET', 'maxmemory-policy', policy);
      const { logger, errors, warnings } = recordingLogger();
      const store = new RedisStore({ client, logger, prefix: `${policy}:` });
      await store.ready();
      await store.set('{u:a}:k', 'v');
      assert.equal(await store.get('{u:a}:k'), 'v');
      assert.deepEqual([errors, warnings], [[], []]);
    });
  }

  for (const policy of ['allkeys-lfu', 'allkeys-random']) {
    test(`and refuses ${policy}`, async () => {
      const client = await connected(server);
      await client.config('SET', 'maxmemory-policy', policy);
      const { logger } = recordingLogger();
      await assert.rejects(new RedisStore({ client, logger }).ready(), misconfigured(policy));
    });
  }

  test('a server that is down: ready() gives up after its timeout and the check runs once it is back', async () => {
    const client = server.client({ lazyConnect: true });
    client.on('error', () => {});
    const { logger, errors, warnings } = recordingLogger();
    const store = new RedisStore({ client, logger });
    const started = Date.now();
    await assert.rejects(store.ready(300), (error: Error) => {
      assert.ok(error instanceof StoreUnavailableError && !(error instanceof StoreMisconfiguredError));
      assert.match(error.message, /not ready within 300 ms \(client status "wait"\)/);
      return true;
    });
    assert.ok(Date.now() - started < 2000);
    await client.connect();
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await assert.rejects(store.ready(), misconfigured('allkeys-lru'));
    assert.equal(errors.length, 1);
    assert.deepEqual(warnings, []);
  });

  test('checks the logger option', () => {
    const client = server.client({ lazyConnect: true });
    for (const logger of [null, console.log, { warn() {} }]) {
      assert.throws(
        () => new RedisStore({ client, logger } as never),
        /`logger` must be an object with warn/,
      );
    }
  });
});

describe('RedisStore on a managed Redis that refuses CONFIG', () => {
  let server: TestRedis;
  before(async () => {
    server = await startRedis({
      args: ['--rename-command', 'CONFIG', '', '--maxmemory-policy', 'allkeys-lru'],
    });
  });
  after(() => server.close());

  test('warns once through the logger and goes on', async () => {
    const client = await connected(server);
    await assert.rejects(client.config('GET', 'maxmemory-policy'), /unknown command/);
    const { logger, errors, warnings } = recordingLogger();
    const store = new RedisStore({ client, logger });
    await Promise.all([store.ready(), store.set('{u:a}:k', 'v'), store.get('{u:a}:k')]);
    assert.equal(await store.get('{u:a}:k'), 'v');
    assert.equal(await store.take('{u:a}:k'), 'v');
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /could not check the server's maxmemory-policy \(CONFIG GET was refused: ERR unknown command/,
    );
    assert.match(warnings[0]!, /make sure it is noeviction/);
    assert.deepEqual(errors, []);
  });
});
