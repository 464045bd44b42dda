import { Redis } from 'ioredis';
import type pg from 'pg';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres-server.js';
import { startRedisCluster, type TestRedisCluster } from '../test/helpers/redis-cluster.js';
import { startRedis, type TestRedis } from '../test/helpers/redis-server.js';
import { postgresPids, redisPid, type Watched } from './scale-cpu.js';
import { type ServerMode, type ServerProcess, startServer } from './server-process.js';

/** The stores every variant runs on: one redis-server, a 3-master Redis Cluster, one PostgreSQL. */
export interface Stores {
  redis: TestRedis;
  cluster: TestRedisCluster;
  database: TestPostgres;
  /** A plain client of the single Redis (INFO, the record copy). */
  admin: Redis;
  /** A pool on PostgreSQL (the record copy, its version). */
  pool: pg.Pool;
  /** redis-server's pid, and each cluster master's. */
  redisPid: number;
  masterPids: number[];
  close(): Promise<void>;
}

/** Starts the three together; `track` gets a synchronous kill for each, for a watchdog. */
export async function startStores(track: (stop: () => void) => void): Promise<Stores> {
  const started = await Promise.allSettled([
    startRedis(),
    startRedisCluster({ masters: 3 }),
    startPostgres(),
  ]);
  const [redis, cluster, database] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined)) as [
    TestRedis | undefined,
    TestRedisCluster | undefined,
    TestPostgres | undefined,
  ];
  if (!redis || !cluster || !database) {
    await Promise.all([redis?.close(), cluster?.close(), database?.close()]);
    throw (started.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
  }
  track(() => void redis.stop());
  track(() => void cluster.close());
  track(() => void database.stop());
  const admin = redis.client();
  const pool = database.pool();
  const masterPids = await Promise.all(
    (await cluster.masters()).map(async ({ port }) => {
      const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
      try {
        return await redisPid(client);
      } finally {
        client.disconnect();
      }
    }),
  );
  return {
    redis,
    cluster,
    database,
    admin,
    pool,
    redisPid: await redisPid(admin),
    masterPids,
    async close() {
      admin.disconnect();
      await Promise.all([redis.close(), cluster.close(), database.close()]);
    },
  };
}

/** Which users a variant serves: the ones whose sessions and records are on its stores. */
export type UserPool = 'redis' | 'cluster';

/** One app configuration under test. */
export interface Variant {
  /** Short name for the tables. */
  name: string;
  /** What it is, for the table's legend. */
  description: string;
  server: ServerProcess;
  pool: UserPool;
  /** Its processes and those of the stores it uses, for the CPU readings. */
  watched: Watched;
}

export const BASELINE = 'redis';

/**
 * The four servers, started together: A (single Redis, 1 process), the same app on the Redis Cluster
 * (sessions and records), with its MFA records in a PostgresStore (sessions in the single Redis), and
 * on the single Redis with 2 processes behind one port (Node's cluster module).
 */
export async function startVariants(
  stores: Stores,
  mode: ServerMode,
  track: (server: ServerProcess) => void,
): Promise<Variant[]> {
  const start = async (options: Parameters<typeof startServer>[0]) => {
    const server = await startServer({ mode, ...options });
    track(server);
    return server;
  };
  const [redis, cluster, postgres, twoProcesses, pgPids] = await Promise.all([
    start({ redisPort: stores.redis.port }),
    start({ redisClusterPorts: stores.cluster.ports }),
    start({ redisPort: stores.redis.port, databaseUrl: stores.database.url }),
    start({ redisPort: stores.redis.port, workers: 2 }),
    postgresPids(stores.pool),
  ]);
  const workerPids = ((await twoProcesses.stats()).workers ?? []).map((w) => w.pid);
  const single = [stores.redisPid];
  return [
    {
      name: BASELINE,
      description: 'A: single Redis (sessions and MFA records), 1 process',
      server: redis,
      pool: 'redis',
      watched: { app: [redis.pid], redis: single },
    },
    {
      name: 'cluster',
      description: `Redis Cluster of ${stores.masterPids.length} masters (sessions and MFA records, one ioredis Cluster client), 1 process`,
      server: cluster,
      pool: 'cluster',
      watched: { app: [cluster.pid], redis: stores.masterPids },
    },
    {
      name: 'postgres',
      description: 'MFA records in a PostgresStore (pool of 10), sessions in the single Redis, 1 process',
      server: postgres,
      pool: 'redis',
      watched: { app: [postgres.pid], redis: single, postgres: pgPids },
    },
    {
      name: 'redis ×2',
      description:
        'single Redis, 2 processes behind one port (Node cluster module, round robin; CPU summed over the workers and the primary)',
      server: twoProcesses,
      pool: 'redis',
      watched: { app: [twoProcesses.pid, ...workerPids], redis: single },
    },
  ];
}
