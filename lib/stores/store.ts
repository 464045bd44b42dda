/**
 * The storage contract behind every MFA record. `MemoryStore` and `RedisStore` implement it and pass
 * one shared contract suite; an app may bring its own.
 *
 * Keys are built by the package (see `keys.ts`): every key of one user carries the same hash tag
 * (`{u:...}`), so a store may run multi-key operations on one user atomically (Redis Cluster safe).
 * Time-based decisions take `now` from the caller (the injected clock); store TTLs only collect
 * garbage, so they are set to at least as long as the data is meaningful.
 */
export interface Store {
  /** The string stored at `key`, or null. */
  get(key: string): Promise<string | null>;
  /** Stores `value`; with `ttlMs` the key disappears after that long (garbage collection). */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Deletes the keys (strings and sets alike); missing keys are fine. */
  delete(...keys: string[]): Promise<void>;
  /** Atomically reads and deletes `key`: of many parallel calls, exactly one gets the value. */
  take(key: string): Promise<string | null>;
  /** Atomically replaces the set at `key` with `members` (an empty list deletes it). */
  replaceSet(key: string, members: string[]): Promise<void>;
  /** Number of members of the set at `key` (0 when missing). */
  countSet(key: string): Promise<number>;
  /**
   * Atomically adds `member` to the set at `key` (created without a TTL when missing): parallel
   * additions never lose one another. True when the member was new.
   */
  addToSet(key: string, member: string): Promise<boolean>;
  /** The members of the set at `key`, in no particular order ([] when missing). */
  members(key: string): Promise<string[]>;
  /**
   * One rate-limited attempt, atomic as a whole: checks the failure counter at `failKey`, runs
   * `action` only when not locked, then resets the counter on success or counts the failure.
   */
  attempt(input: AttemptInput): Promise<AttemptResult>;
  /** Reads the failure counter without changing it. */
  failures(failKey: string, now: number): Promise<FailureState>;
  /** Remaining time to live of `key` in ms: null when the key is missing, Infinity when it has none. */
  ttl(key: string): Promise<number | null>;
}

/**
 * What an attempt does once the lock is known to be open. The action and the failure count change
 * together, so parallel attempts can neither exceed the limit nor redeem one thing twice.
 */
export type AttemptAction =
  /** The caller already decided (e.g. a wrong TOTP code); the store only counts. */
  | { kind: 'check'; ok: boolean }
  /** Succeeds only if `value` is greater than the number stored at `key` (missing = -Infinity),
   *  and then stores it with `ttlMs`. Used for TOTP replay protection (last accepted time step). */
  | { kind: 'advance'; key: string; value: number; ttlMs: number }
  /** Succeeds if any of `members` is in the set at `key`, and removes exactly that one member. */
  | { kind: 'remove-member'; key: string; members: string[] }
  /** Succeeds if the string at `key` equals one of `values`, and deletes the key. */
  | { kind: 'take'; key: string; values: string[] }
  /**
   * `take` of `key`, then, only if it was taken, an `advance` of the number at `counterKey` to `value`,
   * except that a `value` of 0 passes, writing nothing, while the number is missing or 0. Succeeds
   * only if both do; a taken key stays taken either way. One use of a one-time challenge and its
   * signature counter check in a single step (WebAuthn §7.2 step 21), so the first to run wins.
   */
  | {
      kind: 'take-advance';
      key: string;
      values: string[];
      counterKey: string;
      value: number;
      ttlMs: number;
    };

export interface AttemptInput {
  /** Failure counter key (one per user and factor, or per client). */
  failKey: string;
  /** Failures allowed; once this many are counted, every attempt is refused until the lock ends. */
  limit: number;
  /** Failures are counted within this window (ms), measured from the first failure. */
  windowMs: number;
  /** How long the lock lasts (ms), measured from the failure that reached the limit. */
  lockMs: number;
  /** The injected clock, in ms. */
  now: number;
  action: AttemptAction;
}

export type AttemptResult =
  | { status: 'ok' }
  /**
   * The action failed; `failures` counts this one. `taken` (take-advance only): the key was taken,
   * so what failed was the counter.
   */
  | { status: 'invalid'; failures: number; taken?: true }
  /** The counter had reached the limit: the action was not run. */
  | { status: 'locked'; retryAfterMs: number };

export interface FailureState {
  /** Failures counted in the current window (0 when the window or lock has ended). */
  failures: number;
  /** When the lock ends (ms, injected clock), or null when not locked. */
  lockedUntil: number | null;
}

/** Thrown by stores when the backend cannot answer now (down, reconnecting, too slow). */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/**
 * Thrown by a store whose backend is configured so that it could lose records (e.g. a Redis that may
 * evict keys without a TTL). Every call of that store rejects with it, so nothing is ever verified
 * against such a backend; it is a `StoreUnavailableError`, so routes answer 503 and fail closed.
 */
export class StoreMisconfiguredError extends StoreUnavailableError {
  override name = 'StoreMisconfiguredError';
}

/** Where a store reports what it noticed about its backend (default `console`). */
export interface StoreLogger {
  warn(message: string): void;
  error(message: string): void;
}
