import type { Cluster, Redis } from 'ioredis';

/**
 * The few commands `RedisStore` needs, in one shape whatever client the app passes. Each adapter
 * translates them to its client's own calls and says whether the client may send now (a client that
 * is not ready would queue the command offline, and the store never waits on such a queue).
 */
export interface RedisCommands {
  /** Which client this is, for messages ("ioredis", "node-redis"). */
  readonly kind: string;
  /** Null when commands may be sent now; otherwise why not (e.g. 'client status "reconnecting"'). */
  notReady(): string | null;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, pxMs?: number): Promise<unknown>;
  getdel(key: string): Promise<string | null>;
  del(keys: string[]): Promise<number>;
  scard(key: string): Promise<number>;
  sadd(key: string, member: string): Promise<number>;
  smembers(key: string): Promise<string[]>;
  pttl(key: string): Promise<number>;
  evalsha(sha: string, keys: string[], args: string[]): Promise<unknown>;
  eval(source: string, keys: string[], args: string[]): Promise<unknown>;
  /**
   * The value of one config parameter on every server that holds records (each master of a
   * cluster), with the server's address; rejects when the server refuses CONFIG GET.
   */
  configGet(name: string): Promise<{ server: string; value: string | undefined }[]>;
  /** True for an error reply from the server (as opposed to a connection or client error). */
  isReplyError(error: unknown): error is Error;
}

const IOREDIS_METHODS = [
  'get',
  'set',
  'getdel',
  'del',
  'scard',
  'sadd',
  'smembers',
  'pttl',
  'evalsha',
  'eval',
];

/** True for an ioredis `Redis` or `Cluster` (both keep a `status` string and lowercase commands). */
export function isIoredis(client: unknown): client is Redis | Cluster {
  if (client === null || typeof client !== 'object') return false;
  const c = client as Record<string, unknown>;
  return typeof c.status === 'string' && IOREDIS_METHODS.every((name) => typeof c[name] === 'function');
}

/** CONFIG GET's flat [name, value] reply as the value. */
function configValue(reply: unknown, name: string): string | undefined {
  if (!Array.isArray(reply)) return undefined;
  const at = reply.indexOf(name);
  return at >= 0 && typeof reply[at + 1] === 'string' ? reply[at + 1] : undefined;
}

export function ioredisCommands(client: Redis | Cluster): RedisCommands {
  const isCluster = 'nodes' in client && typeof client.nodes === 'function';
  return {
    kind: 'ioredis',
    notReady: () => (client.status === 'ready' ? null : `client status "${client.status}"`),
    get: (key) => client.get(key),
    set: (key, value, pxMs) =>
      pxMs === undefined ? client.set(key, value) : client.set(key, value, 'PX', pxMs),
    getdel: (key) => client.getdel(key),
    del: (keys) => client.del(...keys),
    scard: (key) => client.scard(key),
    sadd: (key, member) => client.sadd(key, member),
    smembers: (key) => client.smembers(key),
    pttl: (key) => client.pttl(key),
    evalsha: (sha, keys, args) => client.evalsha(sha, keys.length, ...keys, ...args),
    eval: (source, keys, args) => client.eval(source, keys.length, ...keys, ...args),
    async configGet(name) {
      const nodes: Redis[] = isCluster ? (client as Cluster).nodes('master') : [client as Redis];
      return Promise.all(
        nodes.map(async (node) => ({
          server: `${node.options.host ?? 'localhost'}:${node.options.port ?? 6379}`,
          value: configValue(await node.config('GET', name), name),
        })),
      );
    },
    isReplyError: (error): error is Error => error instanceof Error && error.name === 'ReplyError',
  };
}
