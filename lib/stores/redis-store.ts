import { checkAttemptInput, checkTtl, parseCounter } from './attempt-input.js';
import { Deadlines } from './deadlines.js';
import { evictionProblem } from './eviction-policy.js';
import { type RedisClient, type RedisCommands, redisCommands } from './redis-client.js';
import { attemptScript, type RedisScript, replaceSetScript } from './redis-scripts.js';
import {
  type AttemptInput,
  type AttemptResult,
  type FailureState,
  type Store,
  type StoreLogger,
  StoreMisconfiguredError,
  StoreUnavailableError,
} from './store.js';

export interface RedisStoreOptions {
  /**
   * An ioredis 5/6 `Redis` or `Cluster`, or a node-redis 4/5 client (`createClient()`) or cluster
   * (`createCluster()`), connected or connecting. The store sends commands on it and never
   * reconfigures it.
   */
  client: RedisClient;
  /** Prepended to every key (default `'mfa:'`), so MFA records share a database safely. */
  prefix?: string;
  /**
   * Longest wait for one store call, in ms (default 2000). Past it the call rejects with
   * `StoreUnavailableError`, so a stalled Redis turns into a quick 503 rather than hung requests.
   */
  commandTimeoutMs?: number;
  /**
   * Where the store reports what it finds (default `console`): a warning when the server refuses
   * `CONFIG GET` (managed Redis), an error when its `maxmemory-policy` may evict MFA records, and an
   * error, once per outage, when calls are refused because the client is not ready (a wrong URL, a
   * server that is down).
   */
  logger?: StoreLogger;
}

const CLIENT_NEEDED =
  'RedisStore needs { client }: an ioredis Redis or Cluster, or a node-redis createClient() or createCluster()';
const KNOWN_OPTIONS = new Set(['client', 'prefix', 'commandTimeoutMs', 'logger']);

/**
 * Server replies that mean "cannot answer now" rather than "bad request": loading a dump, a busy
 * script, failover, cluster resharding, out of memory, failed persistence.
 */
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|NOREPLICAS|MISCONF|OOM)\b/;

/**
 * A `Store` on Redis (>= 6.2 for GETDEL), standalone or Cluster, through ioredis or node-redis
 * (see `redis-client.ts`: one small set of commands, adapted to each client).
 *
 * Keys arrive hash-tagged per user (`{u:...}`), and the multi-key scripts only ever receive keys of
 * one call, so every script touches a single slot. Scripts run by EVALSHA, falling back to EVAL on
 * NOSCRIPT (after a restart, a failover, or on a new cluster node); `defineCommand` is avoided
 * because it would add commands to the app's own client.
 *
 * Failure is fast: while the client is not ready a call rejects at once with
 * `StoreUnavailableError` (nothing is sent, so nothing waits in the client's offline queue to be
 * replayed later), and a call that takes longer than `commandTimeoutMs` rejects the same way.
 *
 * Before its first command the store reads the server's `maxmemory-policy` (every master of a
 * cluster): records have no TTL, so a policy that may evict them refuses the store for good (every
 * call rejects with `StoreMisconfiguredError`, logged once); a managed Redis that refuses CONFIG GET
 * gets one warning and the store goes on.
 */
export class RedisStore implements Store {
  private readonly client: RedisCommands;
  private readonly prefix: string;
  private readonly commandTimeoutMs: number;
  /** Every call's `commandTimeoutMs`, under one timer. */
  private readonly deadlines: Deadlines;
  private readonly logger: StoreLogger;
  /** The server check, in flight or passed; unset again when it could not reach the server. */
  private serverCheck: Promise<void> | undefined;
  /** The server check passed: final, like a refusal. */
  private serverChecked = false;
  /** Set once the server is found to be configured so that it could lose records: final. */
  private refusal: StoreMisconfiguredError | undefined;
  /**
   * Set while calls are refused because the client is not ready, so the outage is logged once, not
   * per request; cleared by the first call that finds the client ready again.
   */
  private notReadyReported = false;

  constructor(options: RedisStoreOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(CLIENT_NEEDED);
    }
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.has(key)) {
        throw new TypeError(
          `RedisStore got unknown option \`${key}\`; known options: client, prefix, commandTimeoutMs, logger`,
        );
      }
    }
    const { client, prefix = 'mfa:', commandTimeoutMs = 2000, logger = console } = options;
    const commands = redisCommands(client);
    if (commands === null) throw new TypeError(CLIENT_NEEDED);
    if (typeof prefix !== 'string') {
      throw new TypeError(`RedisStore \`prefix\` must be a string like 'mfa:', got ${typeof prefix}`);
    }
    // Braces in the prefix would become the Cluster hash tag: every user on one slot, or keys split.
    if (/[{}]/.test(prefix)) {
      throw new TypeError(
        `RedisStore \`prefix\` must not contain { or }: keys are hash-tagged per user, got '${prefix}'`,
      );
    }
    if (
      !(typeof commandTimeoutMs === 'number' && Number.isFinite(commandTimeoutMs) && commandTimeoutMs > 0)
    ) {
      throw new TypeError(
        `RedisStore \`commandTimeoutMs\` must be a positive number of ms (default 2000), got ${String(commandTimeoutMs)}`,
      );
    }
    if (
      logger === null ||
      typeof logger !== 'object' ||
      typeof logger.warn !== 'function' ||
      typeof logger.error !== 'function'
    ) {
      throw new TypeError(
        'RedisStore `logger` must be an object with warn(message) and error(message), like console',
      );
    }
    this.client = commands;
    this.prefix = prefix;
    this.commandTimeoutMs = commandTimeoutMs;
    this.deadlines = new Deadlines(commandTimeoutMs);
    this.logger = logger;
  }

  /**
   * Resolves once the client is connected and the server passed the store's check; rejects with
   * `StoreMisconfiguredError` when the server may evict MFA records, or `StoreUnavailableError`
   * when it is not reachable within `timeoutMs` (default 10000). Await it at startup to refuse to
   * serve on a misconfigured Redis; without it, the first store call runs the same check.
   */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let why = this.client.notReady(); why !== null; why = this.client.notReady()) {
      if (Date.now() >= deadline) {
        throw new StoreUnavailableError(`Redis was not ready within ${timeoutMs} ms (${why})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await this.run(async () => undefined);
  }

  get(key: string): Promise<string | null> {
    return this.run(() => this.client.get(this.prefix + key));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const k = this.prefix + key;
    if (ttlMs === undefined) await this.run(() => this.client.set(k, value));
    else {
      const px = toPx(ttlMs);
      await this.run(() => this.client.set(k, value, px));
    }
  }

  async delete(...keys: string[]): Promise<void> {
    // DEL with no keys is a syntax error; no keys is simply nothing to do.
    if (keys.length === 0) return;
    await this.run(() => this.client.del(keys.map((key) => this.prefix + key)));
  }

  take(key: string): Promise<string | null> {
    return this.run(() => this.client.getdel(this.prefix + key));
  }

  async replaceSet(key: string, members: string[]): Promise<void> {
    await this.run(() => this.script(replaceSetScript, [this.prefix + key], members));
  }

  async countSet(key: string): Promise<number> {
    return this.run(() => this.client.scard(this.prefix + key));
  }

  async addToSet(key: string, member: string): Promise<boolean> {
    return (await this.run(() => this.client.sadd(this.prefix + key, member))) === 1;
  }

  async members(key: string): Promise<string[]> {
    return this.run(() => this.client.smembers(this.prefix + key));
  }

  async attempt(input: AttemptInput): Promise<AttemptResult> {
    checkAttemptInput(input);
    const { action } = input;
    const keys = [this.prefix + input.failKey];
    const args = [
      String(input.limit),
      String(Math.floor(input.windowMs)),
      String(Math.floor(input.lockMs)),
      String(Math.floor(input.now)),
      action.kind,
    ];
    switch (action.kind) {
      case 'check':
        args.push(action.ok ? '1' : '0');
        break;
      case 'advance':
        keys.push(this.prefix + action.key);
        args.push(String(action.value), String(toPx(action.ttlMs)));
        break;
      case 'remove-member':
        keys.push(this.prefix + action.key);
        args.push(...action.members);
        break;
      case 'take':
        keys.push(this.prefix + action.key);
        args.push(...action.values);
        break;
      case 'take-advance':
        keys.push(this.prefix + action.key, this.prefix + action.counterKey);
        args.push(String(action.value), String(toPx(action.ttlMs)), ...action.values);
        break;
      default:
        throw new TypeError(
          `unknown attempt action kind ${JSON.stringify((action as { kind: unknown }).kind)}`,
        );
    }
    const reply = await this.run(() => this.script(attemptScript, keys, args));
    const [status, n, taken] = reply as [string, number, number?];
    if (status === 'ok') return { status: 'ok' };
    if (status === 'locked') return { status: 'locked', retryAfterMs: n };
    return { status: 'invalid', failures: n, ...(taken === 1 ? { taken: true as const } : {}) };
  }

  async failures(failKey: string, now: number): Promise<FailureState> {
    const raw = await this.run(() => this.client.get(this.prefix + failKey));
    // Same format and rule as the attempt script: "count:until:locked"; an ended window counts as none.
    const { count, until, locked } = parseCounter(raw, Math.floor(now));
    return { failures: count, lockedUntil: locked ? until : null };
  }

  async ttl(key: string): Promise<number | null> {
    const ms = await this.run(() => this.client.pttl(this.prefix + key));
    if (ms === -2) return null;
    if (ms === -1) return Infinity;
    return ms;
  }

  /** EVALSHA, and EVAL only when the server has not cached the script (EVAL caches it for next time). */
  private script(script: RedisScript, keys: string[], args: string[]): Promise<unknown> {
    return this.client.evalsha(script.sha, keys, args).catch((error: unknown) => {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return this.client.eval(script.source, keys, args);
    });
  }

  /**
   * The server check, run once before the first command: a policy that may evict keys without a
   * TTL refuses this store for good; a refused CONFIG GET (managed Redis) is one warning. When the
   * server cannot be reached the check is simply run again by the next call.
   */
  private checkServer(): Promise<void> {
    if (this.refusal) return Promise.reject(this.refusal);
    this.serverCheck ??= this.readPolicy().then(
      () => {
        this.serverChecked = true;
      },
      (error) => {
        if (!(error instanceof StoreMisconfiguredError)) this.serverCheck = undefined;
        throw error;
      },
    );
    return this.serverCheck;
  }

  private async readPolicy(): Promise<void> {
    let servers: { server: string; value: string | undefined }[];
    try {
      servers = await this.client.configGet('maxmemory-policy');
    } catch (error) {
      if (!this.client.isReplyError(error) || UNAVAILABLE_REPLY.test(error.message)) throw error;
      this.warnUnchecked(`CONFIG GET was refused: ${error.message}`);
      return;
    }
    if (servers.some(({ value }) => value === undefined)) this.warnUnchecked('CONFIG GET gave no value');
    for (const { server, value } of servers) {
      const problem = value === undefined ? null : evictionProblem(value, server);
      if (problem !== null) {
        this.refusal = new StoreMisconfiguredError(problem);
        this.logger.error(`RedisStore refuses to run: ${problem}`);
        throw this.refusal;
      }
    }
  }

  /**
   * A client that never connects (a wrong URL, a server that is not running) would otherwise show
   * only as 503s: one sentence says why, at the start of each outage.
   */
  private reportNotReady(why: string): void {
    if (this.notReadyReported) return;
    this.notReadyReported = true;
    this.logger.error(
      `RedisStore: Redis is not ready (${why}): every MFA call answers 503 until it connects. ` +
        "Check the client's URL and that the Redis server runs.",
    );
  }

  private warnUnchecked(why: string): void {
    this.logger.warn(
      `RedisStore could not check the server's maxmemory-policy (${why}); make sure it is noeviction ` +
        '(or a volatile-* policy), or Redis may evict MFA records and users would look unenrolled.',
    );
  }

  /**
   * Runs one store call with the fail-fast rules: refuse at once when the client is not ready, give
   * up after `commandTimeoutMs`, and report connection trouble as `StoreUnavailableError`.
   */
  private run<T>(operation: () => Promise<T>): Promise<T> {
    const notReady = this.client.notReady();
    if (notReady !== null) {
      this.reportNotReady(notReady);
      return Promise.reject(new StoreUnavailableError(`Redis is not ready (${notReady})`));
    }
    this.notReadyReported = false;
    // Once the server check has passed, calls skip its promise: one tick less on every command.
    const work = this.serverChecked ? invoke(operation) : this.checkServer().then(operation);
    return new Promise<T>((resolve, reject) => {
      const deadline = this.deadlines.start(() =>
        reject(new StoreUnavailableError(`Redis did not answer within ${this.commandTimeoutMs} ms`)),
      );
      // A late answer or failure after the timeout settles nothing (the promise is already rejected).
      work.then(
        (value) => {
          this.deadlines.settle(deadline);
          resolve(value);
        },
        (error: unknown) => {
          this.deadlines.settle(deadline);
          reject(asStoreError(error, this.client));
        },
      );
    });
  }
}

/** Calls `operation`, a synchronous throw becoming a rejection like any other failure. */
function invoke<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return operation();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Connection-type failures become `StoreUnavailableError`; replies that signal a bug stay as they are. */
function asStoreError(error: unknown, client: RedisCommands): unknown {
  if (error instanceof StoreUnavailableError || !(error instanceof Error)) return error;
  if (error instanceof TypeError || error instanceof RangeError) return error;
  if (client.isReplyError(error) && !UNAVAILABLE_REPLY.test(error.message)) return error;
  return new StoreUnavailableError(`Redis is unavailable: ${error.message}`, { cause: error });
}

/** PX takes a whole, positive number of ms. */
function toPx(ttlMs: number): number {
  checkTtl(ttlMs);
  return Math.ceil(ttlMs);
}
