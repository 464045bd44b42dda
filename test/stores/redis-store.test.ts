import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { storeContract } from 'express-mfa/testing';
import type { Redis } from 'ioredis';
import { RedisStore } from '../../lib/stores/redis-store.js';
import { StoreUnavailableError } from '../../lib/stores/store.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;
/** Shared by the contract tests; each store gets its own prefix instead of its own connection. */
let shared: Redis;
let stores = 0;

/** Resolves on the client's next 'ready' (or now if it is ready). Reconnect 'error's do not reject it. */
function ready(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => client.once('ready', () => resolve()));
}

/** A fresh connected client that stays quiet while the server is down on purpose. */
async function connected(): Promise<Redis> {
  const client = redis.client();
  client.on('error', () => {});
  await ready(client);
  return client;
}

/** An assert.rejects validator: a StoreUnavailableError whose message says why. */
function unavailable(why: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${error}`);
    assert.match(error.message, why);
    return true;
  };
}

/** Records the name of every command the client sends (both Redis and Cluster go through sendCommand). */
function recordCommands(client: Redis): string[] {
  const sent: string[] = [];
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    sent.push(command.name);
    return (send as (...args: unknown[]) => unknown)(command, ...rest);
  }) as typeof client.sendCommand;
  return sent;
}

before(async () => {
  redis = await startRedis();
  shared = await connected();
});
after(() => redis.close());

storeContract('RedisStore', async () => ({
  store: new RedisStore({ client: shared, prefix: `contract${++stores}:` }),
  // Redis expires keys on its own clock; the contract checks TTLs through ttl() instead.
  advance() {},
  cleanup: async () => {},
}));

describe('RedisStore', () => {
  const fail = { kind: 'check', ok: false } as const;
  const limits = { limit: 2, windowMs: 60_000, lockMs: 120_000, now: Date.now() };

  test('checks its options', () => {
    const message =
      'RedisStore needs { client }: an ioredis Redis or Cluster, or a node-redis createClient() or createCluster()';
    assert.throws(() => new RedisStore(undefined as never), { message });
    assert.throws(() => new RedisStore({} as never), { message });
    assert.throws(() => new RedisStore({ client: {} } as never), { message });
    assert.throws(() => new RedisStore({ client: shared, prefix: 1 } as never), /`prefix` must be a string/);
    assert.throws(() => new RedisStore({ client: shared, prefix: '{mfa}:' }), /must not contain { or }/);
    for (const commandTimeoutMs of [0, -5, Number.NaN, '100']) {
      assert.throws(
        () => new RedisStore({ client: shared, commandTimeoutMs } as never),
        /`commandTimeoutMs` must be a positive number/,
      );
    }
    assert.throws(() => new RedisStore({ client: shared, timeout: 5 } as never), /unknown option `timeout`/);
  });

  test('every key carries the prefix (default mfa:)', async () => {
    const raw = await connected();
    const store = new RedisStore({ client: shared });
    await store.set('{u:prefixed}:s', 'v');
    await store.replaceSet('{u:prefixed}:set', ['m']);
    await store.attempt({ failKey: '{u:prefixed}:fail', ...limits, action: fail });
    await store.attempt({
      failKey: '{u:prefixed}:f2',
      ...limits,
      action: { kind: 'advance', key: '{u:prefixed}:step', value: 1, ttlMs: 60_000 },
    });
    const keys = (await raw.keys('*{u:prefixed}*')).sort();
    assert.deepEqual(keys, [
      'mfa:{u:prefixed}:fail',
      'mfa:{u:prefixed}:s',
      'mfa:{u:prefixed}:set',
      'mfa:{u:prefixed}:step',
    ]);

    const custom = new RedisStore({ client: shared, prefix: 'app1:' });
    await custom.set('{u:prefixed}:s', 'other');
    assert.equal(await raw.get('app1:{u:prefixed}:s'), 'other');
    assert.equal(await store.get('{u:prefixed}:s'), 'v');
  });

  test('every key written by attempt has a TTL', async () => {
    const raw = await connected();
    const store = new RedisStore({ client: shared, prefix: 'ttl:' });
    const advance = { kind: 'advance', key: '{u:b}:step', value: 7, ttlMs: 90_000 } as const;
    await store.attempt({ failKey: '{u:b}:f1', ...limits, action: advance }); // ok: writes the step
    await store.attempt({ failKey: '{u:b}:f1', ...limits, action: advance }); // replay: counts
    await store.attempt({ failKey: '{u:b}:f2', ...limits, action: fail });
    await store.attempt({ failKey: '{u:b}:f2', ...limits, action: fail }); // reaches the limit: lock
    await store.attempt({
      failKey: '{u:b}:f3',
      ...limits,
      action: { kind: 'take', key: '{u:b}:x', values: ['v'] },
    });
    await store.attempt({
      failKey: '{u:b}:f4',
      ...limits,
      action: { kind: 'remove-member', key: '{u:b}:y', members: ['m'] },
    });
    const keys = await raw.keys('ttl:*');
    assert.equal(keys.length, 5);
    for (const key of keys) {
      const pttl = await raw.pttl(key);
      assert.ok(pttl > 0, `${key} has PTTL ${pttl}`);
    }
    assert.ok((await raw.pttl('ttl:{u:b}:step')) <= 90_000);
    assert.ok((await raw.pttl('ttl:{u:b}:f2')) > limits.windowMs);
  });

  test('each call is one command; a script missing from the cache costs one EVAL once', async () => {
    const client = await connected();
    const store = new RedisStore({ client });
    const sent = recordCommands(client);
    const calls: [string, () => Promise<unknown>, string[]][] = [
      ['get', () => store.get('{u:c}:k'), ['get']],
      ['set', () => store.set('{u:c}:k', 'v', 1000), ['set']],
      ['take', () => store.take('{u:c}:k'), ['getdel']],
      ['delete', () => store.delete('{u:c}:a', '{u:c}:b'), ['del']],
      ['replaceSet', () => store.replaceSet('{u:c}:set', ['a']), ['evalsha']],
      ['countSet', () => store.countSet('{u:c}:set'), ['scard']],
      ['addToSet', () => store.addToSet('{u:c}:set', 'b'), ['sadd']],
      ['members', () => store.members('{u:c}:set'), ['smembers']],
      ['attempt', () => store.attempt({ failKey: '{u:c}:f', ...limits, action: fail }), ['evalsha']],
      ['failures', () => store.failures('{u:c}:f', limits.now), ['get']],
      ['ttl', () => store.ttl('{u:c}:f'), ['pttl']],
    ];
    await store.attempt({ failKey: '{u:c}:warm', ...limits, action: fail });
    await store.replaceSet('{u:c}:warm-set', ['a']);
    for (const [name, call, expected] of calls) {
      sent.length = 0;
      await call();
      assert.deepEqual(sent, expected, name);
    }

    await (await connected()).script('FLUSH');
    sent.length = 0;
    assert.equal((await store.attempt({ failKey: '{u:c}:g', ...limits, action: fail })).status, 'invalid');
    assert.deepEqual(sent, ['evalsha', 'eval']);
    sent.length = 0;
    await store.attempt({ failKey: '{u:c}:g', ...limits, action: fail });
    assert.deepEqual(sent, ['evalsha']);
  });

  test('a reply that signals a bug is not reported as unavailability', async () => {
    const store = new RedisStore({ client: shared, prefix: 'bug:' });
    await store.replaceSet('{u:d}:set', ['m']);
    await assert.rejects(store.get('{u:d}:set'), (error: Error) => {
      assert.ok(!(error instanceof StoreUnavailableError));
      assert.match(error.message, /WRONGTYPE/);
      return true;
    });
  });

  test('a client that was never connected is refused at once', async () => {
    const lazy = redis.client({ lazyConnect: true });
    const store = new RedisStore({ client: lazy });
    await assert.rejects(store.get('{u:e}:k'), unavailable(/status "wait"/));
    assert.equal(lazy.status, 'wait');
  });

  test('a command that hangs rejects after commandTimeoutMs', async () => {
    const client = await connected();
    const admin = await connected();
    const store = new RedisStore({ client, commandTimeoutMs: 200 });
    await admin.client('PAUSE', 1000);
    try {
      await assert.rejects(store.get('{u:f}:k'), unavailable(/did not answer within 200 ms/));
    } finally {
      // Answered once the pause ends, so later tests do not run against a paused server.
      await admin.ping();
    }
  });

  test('fails fast while Redis is down, sends nothing, and works again after reconnecting', async () => {
    const client = await connected();
    const store = new RedisStore({ client, commandTimeoutMs: 300 });
    const sent = recordCommands(client);
    await store.set('{u:g}:k', 'v');
    const closed = new Promise((resolve) => client.once('close', resolve));

    // Stopped with SHUTDOWN rather than redis.stop(): the harness's stop() SIGKILLs, and its restart()
    // then waits for a second 'exit' of the killed process (exitCode stays null after a signal).
    // The admin connection must not reconnect: ioredis would retry SHUTDOWN on the restarted server.
    const admin = redis.client({ retryStrategy: () => null });
    admin.on('error', () => {});
    await ready(admin);
    await admin.shutdown('NOSAVE').catch(() => {});
    // Whether or not the client has noticed yet, the call fails as unavailable.
    await assert.rejects(store.get('{u:g}:k'), StoreUnavailableError);
    await closed;
    assert.notEqual(client.status, 'ready');
    sent.length = 0;
    await assert.rejects(store.set('{u:g}:queued', 'x'), unavailable(/not ready/));
    await assert.rejects(
      store.attempt({ failKey: '{u:g}:f', ...limits, action: fail }),
      unavailable(/not ready/),
    );
    assert.deepEqual(sent, [], 'nothing was handed to the client, so nothing waits in its offline queue');

    await redis.restart();
    await ready(client);
    assert.equal(await store.get('{u:g}:queued'), null);
    await store.set('{u:g}:k', 'back');
    assert.equal(await store.get('{u:g}:k'), 'back');
    // The restarted server has an empty script cache: the EVAL fallback covers it.
    assert.equal((await store.attempt({ failKey: '{u:g}:f', ...limits, action: fail })).status, 'invalid');
  });
});
