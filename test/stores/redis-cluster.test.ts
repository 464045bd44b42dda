import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { storeContract } from 'express-mfa/testing';
import { type Cluster, Redis } from 'ioredis';
import { createCluster as createCluster5 } from 'redis';
import { createCluster as createCluster4 } from 'redis4';
import { RedisStore } from '../../lib/stores/redis-store.js';
import { StoreUnavailableError } from '../../lib/stores/store.js';
import { clusterReady, startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { enrolTotp, makeTestApp, totpCode } from '../helpers/test-app.js';

let node: TestRedisCluster;
/** Shared by the contract tests; each store gets its own prefix instead of its own connection. */
let cluster: Cluster;
let stores = 0;
const closers: (() => Promise<unknown>)[] = [];

/** What these tests use of a node-redis cluster; versions 4 and 5 agree on it. */
interface NodeRedisCluster {
  on(event: 'error', listener: () => void): unknown;
  connect(): Promise<unknown>;
  disconnect(): Promise<unknown>;
}
type CreateCluster = (options: object) => NodeRedisCluster;

/** A connected node-redis cluster on the test cluster, failing fast on a node that is down. */
async function nodeRedisCluster(create: CreateCluster): Promise<NodeRedisCluster> {
  const client = create({
    rootNodes: node.ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })),
    defaults: { disableOfflineQueue: true },
  });
  client.on('error', () => {});
  await client.connect();
  closers.push(() => client.disconnect());
  return client;
}

/** The keys matching `pattern` on each master, by port. */
async function keysByMaster(pattern: string): Promise<Map<number, string[]>> {
  const found = new Map<number, string[]>();
  for (const { port } of await node.masters()) {
    const raw = new Redis({ host: '127.0.0.1', port });
    try {
      found.set(port, (await raw.keys(pattern)).sort());
    } finally {
      raw.disconnect();
    }
  }
  return found;
}

/** An assert.rejects validator: a CROSSSLOT reply, reported as a bug (not as unavailability). */
function crossSlot(error: unknown) {
  assert.ok(error instanceof Error, `expected an Error, got ${error}`);
  assert.ok(!(error instanceof StoreUnavailableError), 'CROSSSLOT is a bug, not unavailability');
  assert.match(error.message, /^CROSSSLOT\b/);
  return true;
}

before(async () => {
  node = await startRedisCluster({ masters: 3 });
  cluster = node.cluster();
  await clusterReady(cluster);
});
after(async () => {
  for (const close of closers) await close().catch(() => {});
  await node.close();
});

storeContract('RedisStore on a 3-master Cluster (ioredis)', async () => ({
  store: new RedisStore({ client: cluster, prefix: `ccontract${++stores}:` }),
  // Redis expires keys on its own clock; the contract checks TTLs through ttl() instead.
  advance() {},
  cleanup: async () => {},
}));

// ioredis 6 routes an auto-pipelined script by its first key (ioredis 5 by its first argument, the
// SHA, which mixes users' slots in one pipeline: ioredis issue #2109).
let pipelining: Cluster | undefined;
storeContract('RedisStore on a 3-master Cluster (ioredis, auto-pipelining)', async () => {
  if (!pipelining) {
    pipelining = node.cluster({ enableAutoPipelining: true });
    await clusterReady(pipelining);
  }
  return {
    store: new RedisStore({ client: pipelining, prefix: `pcontract${++stores}:` }),
    advance() {},
    cleanup: async () => {},
  };
});

for (const [name, create] of [
  ['node-redis 4', createCluster4 as unknown as CreateCluster],
  ['node-redis 5', createCluster5 as unknown as CreateCluster],
] as const) {
  let client: NodeRedisCluster | undefined;
  storeContract(`RedisStore on a 3-master Cluster (${name})`, async () => {
    client ??= await nodeRedisCluster(create);
    return {
      store: new RedisStore({ client: client as never, prefix: `n${name.at(-1)}contract${++stores}:` }),
      advance() {},
      cleanup: async () => {},
    };
  });
}

describe('RedisStore on a Cluster', () => {
  test('the node is a real cluster: it refuses a script whose keys are in different slots', async () => {
    const script = "return redis.call('GET', KEYS[1])..redis.call('GET', KEYS[2])";
    // 'a' and 'b' hash to different slots (15495 and 3300): refused although one node owns both.
    // The server refuses it (a ReplyError), not ioredis, which routes by the first key only.
    await assert.rejects(cluster.eval(script, 2, 'a', 'b'), { name: 'ReplyError', message: /^CROSSSLOT\b/ });
    // The same script with the keys hash-tagged to one slot runs.
    await cluster.set('{ctl}a', 'x');
    await cluster.set('{ctl}b', 'y');
    assert.equal(await cluster.eval(script, 2, '{ctl}a', '{ctl}b'), 'xy');
    assert.match(await cluster.info('cluster'), /^cluster_enabled:1\r?$/m);
    assert.match(String(await cluster.call('CLUSTER', 'INFO')), /^cluster_state:ok\r?$/m);
  });

  test("the store's multi-key calls rely on the hash tag: keys of two users are refused", async () => {
    const store = new RedisStore({ client: cluster, prefix: 'cross:' });
    const limits = { limit: 3, windowMs: 60_000, lockMs: 60_000, now: Date.now() };
    // One user's keys share a slot (the prefix carries no braces, so {u:...} is the tag): accepted.
    assert.equal(
      (
        await store.attempt({
          failKey: '{u:a}:f',
          ...limits,
          action: { kind: 'advance', key: '{u:a}:step', value: 1, ttlMs: 60_000 },
        })
      ).status,
      'ok',
    );
    await store.delete('{u:a}:f', '{u:a}:step');
    // Two users' keys: the script and DEL are refused, which is what the per-user tags prevent.
    await assert.rejects(
      store.attempt({
        failKey: '{u:a}:f',
        ...limits,
        action: { kind: 'advance', key: '{u:b}:step', value: 1, ttlMs: 60_000 },
      }),
      crossSlot,
    );
    await assert.rejects(store.delete('{u:a}:x', '{u:b}:x'), crossSlot);
  });
});

test('the server check reads every master: one that may evict records refuses the store', async () => {
  const masters = await node.masters();
  const last = masters.at(-1)!.port;
  const raw = new Redis({ host: '127.0.0.1', port: last });
  await raw.config('SET', 'maxmemory-policy', 'allkeys-lfu');
  try {
    const quiet = { warn() {}, error() {} };
    const ioredisStore = new RedisStore({ client: cluster, logger: quiet });
    const nodeRedisStore = new RedisStore({
      client: (await nodeRedisCluster(createCluster5 as never)) as never,
      logger: quiet,
    });
    for (const store of [ioredisStore, nodeRedisStore]) {
      await assert.rejects(store.ready(), (error: Error) => {
        assert.equal(error.name, 'StoreMisconfiguredError');
        assert.match(
          error.message,
          new RegExp(`Redis 127\\.0\\.0\\.1:${last} has maxmemory-policy "allkeys-lfu"`),
        );
        return true;
      });
    }
  } finally {
    await raw.config('SET', 'maxmemory-policy', 'noeviction');
    raw.disconnect();
  }
});

describe('the routes on a Cluster store', () => {
  let sessions: TestRedis;
  before(async () => {
    sessions = await startRedis();
  });
  after(() => sessions.close());

  test('enrol TOTP, verify, redeem a backup code and pass the guard, with MFA records on the cluster', async () => {
    const store = new RedisStore({ client: cluster, prefix: 'e2e:' });
    const sessionClient = sessions.client();
    const t = await makeTestApp(sessionClient, { store });
    const owner = await t.signIn('ada');
    const { secret, backupCodes } = await enrolTotp(owner, t.clock);

    // A new sign-in needs MFA: TOTP (a later step than the one confirm used) lets it through.
    const agent = await t.signIn('ada');
    await agent.get('/guarded').expect(401);
    t.clock.advance(60_000);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    await agent.get('/guarded').expect(200);

    // A backup code elevates another session once.
    const other = await t.signIn('ada');
    await other.get('/guarded').expect(401);
    const res = await other.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] }).expect(200);
    assert.equal(res.body.remaining, 9);
    await other.get('/guarded').expect(200);
    await other.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] }).expect(401);
    assert.equal((await other.get('/auth/mfa/').expect(200)).body.backupCodes.remaining, 9);

    // The MFA records live on one master, all in the user's one slot; none in the session Redis.
    const byMaster = [...(await keysByMaster('e2e:*')).values()].filter((keys) => keys.length > 0);
    assert.equal(byMaster.length, 1);
    const keys = byMaster[0]!;
    assert.deepEqual(keys, [
      'e2e:{u:YWRh}:backup-codes',
      'e2e:{u:YWRh}:failures:backup_codes',
      'e2e:{u:YWRh}:totp',
      'e2e:{u:YWRh}:totp:last-step',
    ]);
    const slots = new Set(await Promise.all(keys.map((k) => cluster.call('CLUSTER', 'KEYSLOT', k))));
    assert.equal(slots.size, 1);
    assert.deepEqual(
      (await sessionClient.keys('*')).filter((k) => !k.includes('sess:')),
      [],
    );
  });

  test('30 users enrol and step up through the routes; their records spread over all 3 masters', async () => {
    const store = new RedisStore({ client: cluster, prefix: 'many:' });
    const t = await makeTestApp(sessions.client(), { store });
    const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    const secrets = new Map<string, string>();
    for (const id of users) secrets.set(id, (await enrolTotp(await t.signIn(id), t.clock)).secret);
    t.clock.advance(60_000);
    await Promise.all(
      users.map(async (id) => {
        const agent = await t.signIn(id);
        await agent
          .post('/auth/mfa/totp/verify')
          .send({ code: totpCode(secrets.get(id)!, t.clock) })
          .expect(200);
        await agent.get('/guarded').expect(200);
      }),
    );
    const byMaster = await keysByMaster('many:*');
    assert.equal(byMaster.size, 3);
    const usersOn = [...byMaster.values()].map(
      (keys) => new Set(keys.map((k) => /^many:\{u:([^}]+)\}:/.exec(k)![1])),
    );
    // Every master holds the records of some users, each user's on exactly one master.
    for (const onMaster of usersOn) assert.ok(onMaster.size >= 3, `a master holds ${onMaster.size} users`);
    assert.equal(
      usersOn.reduce((n, set) => n + set.size, 0),
      30,
    );
  });
});
