import { RedisStore as SessionStore } from 'connect-redis';
import session from 'express-session';
import { Redis } from 'ioredis';
import { MemoryStore, RedisStore } from '../lib/index.js';

/** Where the example keeps sessions and MFA records: one Redis for both, or memory. */
export interface ExampleStores {
  sessionStore: session.Store;
  mfaStore: MemoryStore | RedisStore;
  /** The Redis connection, when there is one. */
  redis?: Redis;
  /** Quits Redis (nothing to do in memory). */
  close(): Promise<void>;
}

function redisLabel(url: string): string {
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}`; // never log credentials
  } catch {
    return 'the given REDIS_URL';
  }
}

/** Connects to Redis at `redisUrl` (and fails if it cannot), or keeps everything in memory. */
export async function openStores(
  redisUrl: string | undefined,
  log: (line: string) => void,
): Promise<ExampleStores> {
  if (!redisUrl) {
    log('Using the in-memory store: data is lost on restart (set REDIS_URL to use Redis).');
    return { sessionStore: new session.MemoryStore(), mfaStore: new MemoryStore(), close: async () => {} };
  }
  // Fail fast instead of queueing commands while Redis is away: requests then answer 503 quickly.
  const redis = new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    connectTimeout: 2000,
    lazyConnect: true,
  });
  // ioredis reports every failed reconnect: say it once, and again when the connection is back.
  let lastError: string | undefined;
  redis.on('error', (err: Error) => {
    if (err.message !== lastError) log(`Redis error: ${err.message}`);
    lastError = err.message;
  });
  redis.on('ready', () => {
    if (lastError) log('Redis connection restored.');
    lastError = undefined;
  });
  try {
    await redis.connect(); // with the offline queue off, nothing may be sent before this
  } catch (err) {
    redis.disconnect();
    const reason = lastError ?? (err as Error).message;
    throw new Error(`Could not connect to Redis at ${redisLabel(redisUrl)}: ${reason}`);
  }
  log(`Sessions and MFA records are stored in Redis at ${redisLabel(redisUrl)}.`);
  return {
    sessionStore: new SessionStore({ client: redis, prefix: 'example:sess:' }),
    mfaStore: new RedisStore({ client: redis }),
    redis,
    async close() {
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
