import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { storeContract } from 'express-mfa/testing';
import { type Cluster, Redis } from 'ioredis';
import { RedisStore } from '../../lib/stores/redis-store.js';
import { StoreUnavailableError } from '../../lib/stores/store.js';
import { clusterReady, startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { enrolTotp, makeTestApp, totpCode } from '../helpers/test-app.js';

let node: TestRedisCluster;
/** Shared by the contract tests; each store gets its own prefix instead of its own connection. */
let cluster: Cluster;
let stores = 0;

/** An assert.rejects validator: a CROSSSLOT reply, reported as a bug (not as unavailability). */
function crossSlot(error: unknown) {
  assert.ok(error instanceof Error, `expected an Error, got ${error}`);
  assert.ok(!(error instanceof StoreUnavailableError), 'CROSSSLOT is a bug, not unavailability');
  assert.match(error.message, /^CROSSSLOT\b/);
  return true;
}

before(async () => {
  node = await startRedisCluster();
  cluster = node.cluster();
  await clusterReady(cluster);
});
after(() => node.close());

storeContract('RedisStore on a Cluster', async () => ({
  store: new RedisStore({ client: cluster, prefix: `ccontract${++stores}:` }),
  // Redis expires keys on its own clock; the contract checks TTLs through ttl() instead.
  advance() {},
  cleanup: async () => {},
}));

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

    // The MFA records live on the cluster node, all in the user's one slot; none in the session Redis.
    const raw = new Redis({ host: '127.0.0.1', port: node.port });
    try {
      const keys = (await raw.keys('e2e:*')).sort();
      assert.deepEqual(keys, [
        'e2e:{u:YWRh}:backup-codes',
        'e2e:{u:YWRh}:failures:backup_codes',
        'e2e:{u:YWRh}:totp',
        'e2e:{u:YWRh}:totp:last-step',
      ]);
      const slots = new Set(await Promise.all(keys.map((k) => raw.call('CLUSTER', 'KEYSLOT', k))));
      assert.equal(slots.size, 1);
    } finally {
      raw.disconnect();
    }
    assert.deepEqual(
      (await sessionClient.keys('*')).filter((k) => !k.includes('sess:')),
      [],
    );
  });
});
