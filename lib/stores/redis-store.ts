import type { Cluster, Redis } from 'ioredis';
import { attemptScript, type RedisScript, replaceSetScript } from './redis-scripts.js';
import {
  type AttemptInput,
  type AttemptResult,
  type FailureState,
  type Store,
  StoreUnavailableError,
} from './store.js';

export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster` client. The store sends commands on it and never reconfigures it. */
  client: Redis | Cluster;
  /** Prepended to every key (default `'mfa:'`), so MFA records share a database safely. */
  prefix?: string;
  /**
   * Longest wait for one store call, in ms (default 2000). Past it the call rejects with
   * `StoreUnavailableError`, so a stalled Redis turns into a quick 503 rather than hung requests.
   */
  commandTimeoutMs?: number;
}

/**
 * The commands the store uses, all present on both `Redis` and `Cluster` (the `satisfies` in the
 * constructor proves it at compile time). Nothing that exists on only one of them belongs here.
 */
interface Commands {
  status: string;
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  set(key: string, value: string, px: 'PX', ms: number): Promise<unknown>;
  getdel(key: string): Promise<string | null>;
  del(...keys: string[]): Promise<number>;
  scard(key: string): Promise<number>;
  sadd(key: string, member: string): Promise<number>;
  smembers(key: string): Promise<string[]>;
  pttl(key: string): Promise<number>;
  evalsha(sha: string, numkeys: number, ...args: string[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: string[]): Promise<unknown>;
}

const KNOWN_OPTIONS = new Set(['client', 'prefix', 'commandTimeoutMs']);

/**
 * Server replies that mean "cannot answer now" rather than "bad request": loading a dump, a busy
 * script, failover, cluster resharding, out of memory, failed persistence.
 */
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|NOREPLICAS|MISCONF|OOM)\b/;

/**
 * A `Store` on Redis (>= 6.2 for GETDEL), standalone or Cluster, through ioredis.
 *
 * Keys arrive hash-tagged per user (`{u:...}`), and the multi-key scripts only ever receive keys of
 * one call, so every script touches a single slot. Scripts run by EVALSHA, falling back to EVAL on
 * NOSCRIPT (after a restart, a failover, or on a new cluster node); `defineCommand` is avoided
 * because it would add commands to the app's own client.
 *
 * Failure is fast: while the client is not `ready` a call rejects at once with
 * `StoreUnavailableError` (nothing is sent, so nothing waits in ioredis's offline queue to be replayed
 * later), and a call that takes longer than `commandTimeoutMs` rejects the same way.
 */
export class RedisStore implements Store {
  private readonly client: Commands;
  private readonly prefix: string;
  private readonly commandTimeoutMs: number;

  constructor(options: RedisStoreOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('RedisStore needs { client }: an ioredis Redis or Cluster instance');
    }
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.has(key)) {
        throw new TypeError(
          `RedisStore got unknown option \`${key}\`; known options: client, prefix, commandTimeoutMs`,
        );
      }
    }
    const { client, prefix = 'mfa:', commandTimeoutMs = 2000 } = options;
    if (!looksLikeIoredis(client)) {
      throw new TypeError('RedisStore needs { client }: an ioredis Redis or Cluster instance');
    }
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
    this.client = client satisfies Commands;
    this.prefix = prefix;
    this.commandTimeoutMs = commandTimeoutMs;
  }

  async get(key: string): Promise<string | null> {
    return this.run(() => this.client.get(this.prefix + key));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const k = this.prefix + key;
    if (ttlMs === undefined) await this.run(() => this.client.set(k, value));
    else {
      const px = toPx(ttlMs);
      await this.run(() => this.client.set(k, value, 'PX', px));
    }
  }

  async delete(...keys: string[]): Promise<void> {
    // DEL with no keys is a syntax error; no keys is simply nothing to do.
    if (keys.length === 0) return;
    await this.run(() => this.client.del(...keys.map((key) => this.prefix + key)));
  }

  async take(key: string): Promise<string | null> {
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
    const match = raw === null ? null : /^(\d+):(-?\d+):([01])$/.exec(raw);
    if (match === null || Number(match[2]) <= Math.floor(now)) return { failures: 0, lockedUntil: null };
    return { failures: Number(match[1]), lockedUntil: match[3] === '1' ? Number(match[2]) : null };
  }

  async ttl(key: string): Promise<number | null> {
    const ms = await this.run(() => this.client.pttl(this.prefix + key));
    if (ms === -2) return null;
    if (ms === -1) return Infinity;
    return ms;
  }

  /** EVALSHA, and EVAL only when the server has not cached the script (EVAL caches it for next time). */
  private async script(script: RedisScript, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return this.client.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  /**
   * Runs one store call with the fail-fast rules: refuse at once when the client is not ready, give
   * up after `commandTimeoutMs`, and report connection trouble as `StoreUnavailableError`.
   */
  private async run<T>(operation: () => Promise<T>): Promise<T> {
    const status = this.client.status;
    if (status !== 'ready') throw new StoreUnavailableError(`Redis is not ready (client status "${status}")`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailableError(`Redis did not answer within ${this.commandTimeoutMs} ms`)),
        this.commandTimeoutMs,
      );
    });
    try {
      // Promise.race subscribes to the operation, so its late rejection after a timeout is handled.
      return await Promise.race([operation(), timeout]);
    } catch (error) {
      throw asStoreError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Connection-type failures become `StoreUnavailableError`; replies that signal a bug stay as they are. */
function asStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || !(error instanceof Error)) return error;
  if (error instanceof TypeError || error instanceof RangeError) return error;
  if (error.name === 'ReplyError' && !UNAVAILABLE_REPLY.test(error.message)) return error;
  return new StoreUnavailableError(`Redis is unavailable: ${error.message}`, { cause: error });
}

function looksLikeIoredis(client: unknown): client is Redis | Cluster {
  if (client === null || typeof client !== 'object') return false;
  const c = client as Record<string, unknown>;
  return (
    typeof c.status === 'string' &&
    ['get', 'set', 'getdel', 'del', 'scard', 'sadd', 'smembers', 'pttl', 'evalsha', 'eval'].every(
      (name) => typeof c[name] === 'function',
    )
  );
}

/** PX takes a whole, positive number of ms. */
function toPx(ttlMs: number): number {
  if (!(Number.isFinite(ttlMs) && ttlMs > 0)) {
    throw new RangeError(`ttlMs must be a positive number of ms (omit it for no TTL), got ${ttlMs}`);
  }
  return Math.ceil(ttlMs);
}

/** Fails loudly on inputs that would otherwise lock forever or never (NaN compares false to everything). */
function checkAttemptInput({ limit, windowMs, lockMs, now, action }: AttemptInput): void {
  if (!(Number.isInteger(limit) && limit >= 1))
    throw new RangeError(`attempt limit must be an integer >= 1, got ${limit}`);
  for (const [name, ms] of [
    ['windowMs', windowMs],
    ['lockMs', lockMs],
  ] as const) {
    if (!(Number.isFinite(ms) && ms >= 0))
      throw new RangeError(`attempt ${name} must be a number of ms >= 0, got ${ms}`);
  }
  if (!Number.isFinite(now)) throw new RangeError(`attempt now must be a finite time in ms, got ${now}`);
  if (action.kind === 'advance') {
    if (!Number.isFinite(action.value))
      throw new RangeError(`advance value must be finite, got ${action.value}`);
    toPx(action.ttlMs);
  }
}
