/**
 * The Redis clients `RedisStore` accepts, described by the few members it uses, so that the
 * package's types need neither ioredis nor node-redis installed (both are optional peers).
 */
type Command = (...args: never[]) => Promise<unknown>;

/** An ioredis 5/6 `Redis` or `Cluster` (created connecting, not `lazyConnect`). */
export interface IoredisClient {
  status: string;
  get: Command;
  set: Command;
  getdel: Command;
  del: Command;
  scard: Command;
  sadd: Command;
  smembers: Command;
  pttl: Command;
  evalsha: Command;
  eval: Command;
}

/** A node-redis 4/5 client from `createClient()` (after `await client.connect()`). */
export interface NodeRedisClient {
  isOpen: boolean;
  isReady: boolean;
  sendCommand: Command;
}

/** A node-redis 4/5 cluster from `createCluster()` (after `await cluster.connect()`). */
export interface NodeRedisCluster {
  isOpen: boolean;
  masters: unknown;
  nodeClient: (...args: never[]) => unknown;
  sendCommand: Command;
}

export type RedisClient = IoredisClient | NodeRedisClient | NodeRedisCluster;

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

const fn = (value: unknown) => typeof value === 'function';

/** The adapter for `client`, or null when it is none of the clients the store knows. */
export function redisCommands(client: unknown): RedisCommands | null {
  if (client === null || typeof client !== 'object') return null;
  const c = client as Record<string, unknown>;
  if (typeof c.status === 'string' && IOREDIS_METHODS.every((name) => fn(c[name]))) {
    return ioredisCommands(client as IoredisLike);
  }
  if (typeof c.isOpen === 'boolean' && fn(c.sendCommand)) {
    if (fn(c.nodeClient) && 'masters' in c) return nodeRedisCommands(client as NodeRedisLike, true);
    if (typeof c.isReady === 'boolean') return nodeRedisCommands(client as NodeRedisLike, false);
  }
  return null;
}

/** CONFIG GET's flat [name, value] reply (or a RESP3 map) as the value. */
function configValue(reply: unknown, name: string): string | undefined {
  if (reply instanceof Map) return typeof reply.get(name) === 'string' ? reply.get(name) : undefined;
  if (Array.isArray(reply)) {
    const at = reply.indexOf(name);
    return at >= 0 && typeof reply[at + 1] === 'string' ? reply[at + 1] : undefined;
  }
  if (reply !== null && typeof reply === 'object') {
    const value = (reply as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

/** What the ioredis adapter calls; `Redis` and `Cluster` both have it (a Cluster also has `nodes`). */
interface IoredisLike {
  status: string;
  options?: { host?: string; port?: number };
  nodes?: (role: 'master') => IoredisLike[];
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ...px: [] | ['PX', number]): Promise<unknown>;
  getdel(key: string): Promise<string | null>;
  del(...keys: string[]): Promise<number>;
  scard(key: string): Promise<number>;
  sadd(key: string, member: string): Promise<number>;
  smembers(key: string): Promise<string[]>;
  pttl(key: string): Promise<number>;
  evalsha(sha: string, numkeys: number, ...args: string[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: string[]): Promise<unknown>;
  config(subcommand: 'GET', name: string): Promise<unknown>;
}

function ioredisCommands(client: IoredisLike): RedisCommands {
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
      const nodes = typeof client.nodes === 'function' ? client.nodes('master') : [client];
      return Promise.all(
        nodes.map(async (node) => ({
          server: `${node.options?.host ?? 'localhost'}:${node.options?.port ?? 6379}`,
          value: configValue(await node.config('GET', name), name),
        })),
      );
    },
    isReplyError: (error): error is Error => error instanceof Error && error.name === 'ReplyError',
  };
}

/** What the node-redis adapter calls on a client (4 and 5 agree on these). */
interface NodeRedisLike {
  isOpen: boolean;
  options?: { url?: string; socket?: { host?: string; port?: number } };
  isReady?: boolean;
  /** Client: sendCommand(args); cluster: sendCommand(firstKey, isReadonly, args). */
  sendCommand(...args: unknown[]): Promise<unknown>;
  masters?: { host: string; port: number }[];
  nodeClient?: (node: unknown) => NodeRedisLike | Promise<NodeRedisLike>;
}

/**
 * node-redis through `sendCommand` only: the raw commands are the same in versions 4 and 5, while
 * the typed helpers changed (SET's options, RESP3 sets), so raw replies are read the one way.
 */
function nodeRedisCommands(client: NodeRedisLike, cluster: boolean): RedisCommands {
  // A cluster routes by the first key (every key of one call shares the user's hash tag).
  const send = (firstKey: string | undefined, readonly: boolean, args: string[]) =>
    cluster ? client.sendCommand(firstKey, readonly, args) : client.sendCommand(args);
  const list = (reply: unknown) => (reply instanceof Set ? [...reply] : (reply as string[]));
  return {
    kind: 'node-redis',
    notReady() {
      if (!client.isOpen) return 'client is closed (call connect())';
      // A cluster has no overall readiness; a node that is down fails its own commands, and
      // `disableOfflineQueue` (see the README) makes that immediate.
      if (!cluster && client.isReady !== true) return 'client is reconnecting';
      return null;
    },
    get: (key) => send(key, true, ['GET', key]) as Promise<string | null>,
    set: (key, value, pxMs) =>
      send(key, false, pxMs === undefined ? ['SET', key, value] : ['SET', key, value, 'PX', String(pxMs)]),
    getdel: (key) => send(key, false, ['GETDEL', key]) as Promise<string | null>,
    del: (keys) => send(keys[0], false, ['DEL', ...keys]) as Promise<number>,
    scard: (key) => send(key, true, ['SCARD', key]) as Promise<number>,
    sadd: (key, member) => send(key, false, ['SADD', key, member]) as Promise<number>,
    smembers: async (key) => list(await send(key, true, ['SMEMBERS', key])),
    pttl: (key) => send(key, true, ['PTTL', key]) as Promise<number>,
    evalsha: (sha, keys, args) =>
      send(keys[0], false, ['EVALSHA', sha, String(keys.length), ...keys, ...args]),
    eval: (source, keys, args) =>
      send(keys[0], false, ['EVAL', source, String(keys.length), ...keys, ...args]),
    async configGet(name) {
      const nodes = cluster
        ? await Promise.all(
            (client.masters ?? []).map(async (master) => ({
              server: `${master.host}:${master.port}`,
              node: await client.nodeClient!(master),
            })),
          )
        : [{ server: nodeRedisAddress(client), node: client }];
      return Promise.all(
        nodes.map(async ({ server, node }) => ({
          server,
          value: configValue(await node.sendCommand(['CONFIG', 'GET', name]), name),
        })),
      );
    },
    isReplyError: (error): error is Error => error instanceof Error && isErrorReply(error),
  };
}

/** node-redis's `ErrorReply` (and its subclasses) is how a server error reply arrives. */
function isErrorReply(error: Error): boolean {
  for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === 'ErrorReply') return true;
  }
  return false;
}

/** host:port of a node-redis client, from its url or socket options (never its credentials). */
function nodeRedisAddress(client: NodeRedisLike): string {
  const { url, socket } = client.options ?? {};
  if (url) {
    try {
      const parsed = new URL(url);
      return `${parsed.hostname}:${parsed.port || 6379}`;
    } catch {
      // An unparsable url: fall back to the socket options.
    }
  }
  return `${socket?.host ?? 'localhost'}:${socket?.port ?? 6379}`;
}
