import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { storeContract } from 'express-mfa/testing';
import { Redis as Ioredis5 } from 'ioredis5';
import { createClient as createClient5 } from 'redis';
import { createClient as createClient4 } from 'redis4';
import { RedisStore } from '../../lib/stores/redis-store.js';
import { StoreMisconfiguredError, StoreUnavailableError } from '../../lib/stores/store.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { enrolTotp, makeTestApp, totpCode } from '../helpers/test-app.js';

// ioredis 6 runs the contract in redis-store.test.ts; here the other clients RedisStore accepts.
let server: TestRedis;
const closers: (() => Promise<unknown> | unknown)[] = [];
let stores = 0;

/** What these tests use of a node-redis client; versions 4 and 5 agree on it. */
interface NodeRedis {
  isOpen: boolean;
  isReady: boolean;
  on(event: 'error', listener: () => void): unknown;
  connect(): Promise<unknown>;
  disconnect(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  keys(pattern: string): Promise<string[]>;
}
type Create = (options: object) => NodeRedis;
const create4 = createClient4 as unknown as Create;
const create5 = createClient5 as unknown as Create;

/** A connected node-redis client that stays quiet while the server is down on purpose. */
async function nodeRedis(create: Create, options: object = {}) {
  const client = create({ url: server.url, ...options });
  client.on('error', () => {});
  await client.connect();
  closers.push(() => (client.isOpen ? client.disconnect() : undefined));
  return client;
}

const clients: [string, () => Promise<object>][] = [
  [
    'ioredis 5',
    async () => {
      const client = new Ioredis5({ port: server.port, host: '127.0.0.1' });
      client.on('error', () => {});
      closers.push(() => client.disconnect());
      if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
      return client;
    },
  ],
  [
    // Auto-pipelining (one write for the commands of one tick) is what the README recommends on a single Redis.
    'ioredis 5 with auto-pipelining',
    async () => {
      const client = new Ioredis5({ port: server.port, host: '127.0.0.1', enableAutoPipelining: true });
      client.on('error', () => {});
      closers.push(() => client.disconnect());
      if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
      return client;
    },
  ],
  ['node-redis 4', () => nodeRedis(create4)],
  ['node-redis 5', () => nodeRedis(create5)],
];

before(async () => {
  server = await startRedis();
});
after(async () => {
  for (const close of closers) await close();
  await server.close();
});

for (const [name, connect] of clients) {
  let shared: object | undefined;
  storeContract(`RedisStore on ${name}`, async () => {
    shared ??= await connect();
    return {
      store: new RedisStore({ client: shared as never, prefix: `${name.replace(/\W/g, '')}-${++stores}:` }),
      advance() {},
      cleanup: async () => {},
    };
  });
}

describe('RedisStore on node-redis', () => {
  const limits = { limit: 3, windowMs: 60_000, lockMs: 60_000, now: Date.now() };
  const fail = { kind: 'check', ok: false } as const;

  for (const [version, create] of [
    ['4', create4],
    ['5', create5],
  ] as const) {
    test(`${version}: a closed client is refused at once, a reconnecting one too, and it works again after`, async () => {
      const never = create({ url: server.url });
      await assert.rejects(
        new RedisStore({ client: never as never }).get('{u:a}:k'),
        /not ready \(client is closed/,
      );

      const client = await nodeRedis(create, {
        socket: { reconnectStrategy: () => 100 },
        disableOfflineQueue: true,
      });
      const store = new RedisStore({ client: client as never, commandTimeoutMs: 500 });
      await store.set('{u:a}:k', 'v');
      await server.stop();
      await assert.rejects(store.get('{u:a}:k'), StoreUnavailableError);
      const deadline = Date.now() + 2000;
      while (client.isReady && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const started = Date.now();
      await assert.rejects(
        store.attempt({ failKey: '{u:a}:f', ...limits, action: fail }),
        /not ready \(client is reconnecting\)/,
      );
      assert.ok(Date.now() - started < 100);
      await server.restart();
      const back = Date.now() + 5000;
      while (!client.isReady && Date.now() < back) await new Promise((r) => setTimeout(r, 20));
      // The restarted server is empty, with an empty script cache: the EVAL fallback covers it.
      assert.equal((await store.attempt({ failKey: '{u:a}:f', ...limits, action: fail })).status, 'invalid');
      await store.set('{u:a}:k', 'back');
      assert.equal(await store.get('{u:a}:k'), 'back');
    });

    test(`${version}: a command that hangs rejects after commandTimeoutMs; a bug reply stays a bug`, async () => {
      const client = await nodeRedis(create);
      const admin = await nodeRedis(create);
      const store = new RedisStore({
        client: client as never,
        commandTimeoutMs: 200,
        prefix: `hang${version}:`,
      });
      await store.replaceSet('{u:b}:set', ['m']);
      await assert.rejects(store.get('{u:b}:set'), (error: Error) => {
        assert.ok(!(error instanceof StoreUnavailableError), String(error));
        assert.match(error.message, /WRONGTYPE/);
        return true;
      });
      await admin.sendCommand(['CLIENT', 'PAUSE', '800']);
      try {
        await assert.rejects(store.get('{u:b}:k'), /did not answer within 200 ms/);
      } finally {
        await admin.sendCommand(['PING']);
      }
    });

    test(`${version}: a server that may evict records is refused`, async () => {
      const client = await nodeRedis(create);
      await client.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru']);
      try {
        const errors: string[] = [];
        const store = new RedisStore({
          client: client as never,
          logger: { warn() {}, error: (m) => errors.push(m) },
        });
        await assert.rejects(store.ready(), (error: Error) => {
          assert.ok(error instanceof StoreMisconfiguredError);
          assert.match(error.message, /Redis 127\.0\.0\.1:\d+ has maxmemory-policy "allkeys-lru"/);
          return true;
        });
        await assert.rejects(store.set('{u:c}:k', 'v'), StoreMisconfiguredError);
        assert.equal(errors.length, 1);
      } finally {
        await client.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
      }
    });
  }

  test('the routes on node-redis 5: TOTP enrol and verify, MFA records through node-redis', async () => {
    const client = await nodeRedis(create5);
    const store = new RedisStore({ client: client as never, prefix: 'nr5:' });
    // Sessions on ioredis (connect-redis 8.1), records on node-redis, one server.
    const t = await makeTestApp(server.client(), { store });
    const owner = await t.signIn('ada');
    const { secret } = await enrolTotp(owner, t.clock);
    const agent = await t.signIn('ada');
    t.clock.advance(60_000);
    const code = totpCode(secret, t.clock);
    await agent.post('/auth/mfa/totp/verify').send({ code }).expect(200);
    await agent.get('/guarded').expect(200);
    await (await t.signIn('ada')).post('/auth/mfa/totp/verify').send({ code }).expect(401);
    const keys = (await client.keys('nr5:*')).sort();
    assert.deepEqual(keys, [
      'nr5:{u:YWRh}:backup-codes',
      'nr5:{u:YWRh}:failures:totp',
      'nr5:{u:YWRh}:totp',
      'nr5:{u:YWRh}:totp:last-step',
    ]);
  });
});
