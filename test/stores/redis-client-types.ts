// Compile-time only (npm run typecheck): every client RedisStore documents is accepted by its types.
import { Cluster as C6, Redis as R6 } from 'ioredis';
import { Cluster as C5, Redis as R5 } from 'ioredis5';
import { createClient as c5, createCluster as k5 } from 'redis';
import { createClient as c4, createCluster as k4 } from 'redis4';
import { RedisStore } from '../../lib/stores/redis-store.js';
export const all = () => [
  new RedisStore({ client: c5() }),
  new RedisStore({ client: c4() }),
  new RedisStore({ client: k5({ rootNodes: [] }) }),
  new RedisStore({ client: k4({ rootNodes: [] }) }),
  new RedisStore({ client: new R6() }),
  new RedisStore({ client: new R5() }),
  new RedisStore({ client: new C6([]) }),
  new RedisStore({ client: new C5([]) }),
];
