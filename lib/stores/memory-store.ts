import { checkAttemptInput, checkTtl, parseCounter } from './attempt-input.js';
import type { AttemptAction, AttemptInput, AttemptResult, FailureState, Store } from './store.js';

export interface MemoryStoreOptions {
  /** Clock for TTLs, in ms (default `Date.now`). Tests inject one to expire keys without sleeping. */
  now?: () => number;
}

type Entry =
  | { type: 'string'; value: string; expiresAt: number }
  | { type: 'set'; members: Set<string>; expiresAt: number };

/** Runs a full sweep at least this often (real time), so an idle process still returns memory. */
const SWEEP_INTERVAL_MS = 60_000;
/** Fewest writes between write-triggered sweeps; above it, the threshold grows with the store. */
const MIN_WRITES_PER_SWEEP = 1024;

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

/**
 * An in-process `Store` for development, tests and single-process apps: state is lost on restart
 * and not shared between processes. Every operation runs synchronously inside its promise, so each
 * one is atomic with respect to the others, like a Redis command or script.
 *
 * Expired keys are purged, not merely hidden: on access, and by a sweep that runs once the writes
 * since the previous sweep outnumber the keys it left (so its cost is amortized O(1) per write and
 * memory stays within about twice the live keys), plus an `unref()`'d timer for idle periods.
 */
export class MemoryStore implements Store {
  /** Not `#private`: the white-box test checks that expired entries are really gone. */
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private writesSinceSweep = 0;
  private sweepAfterWrites = MIN_WRITES_PER_SWEEP;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('MemoryStore options must be an object like { now: () => Date.now() }');
    }
    for (const key of Object.keys(options)) {
      if (key !== 'now')
        throw new TypeError(`MemoryStore got unknown option \`${key}\`; the only option is \`now\``);
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TypeError('MemoryStore option `now` must be a function returning ms, like Date.now');
    }
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  /** Number of live keys (purges expired ones first). Meant for benchmarks and tests. */
  size(): number {
    this.sweep();
    return this.entries.size;
  }

  /** Stops the sweep timer. The store keeps working; expired keys are then purged on access and writes. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async get(key: string): Promise<string | null> {
    return this.readString(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.write(key, { type: 'string', value, expiresAt: this.expiry(ttlMs) });
  }

  async delete(...keys: string[]): Promise<void> {
    for (const key of keys) this.entries.delete(key);
  }

  async take(key: string): Promise<string | null> {
    const entry = this.readString(key);
    if (entry === undefined) return null;
    this.entries.delete(key);
    return entry.value;
  }

  async replaceSet(key: string, members: string[]): Promise<void> {
    if (members.length === 0) this.entries.delete(key);
    else this.write(key, { type: 'set', members: new Set(members), expiresAt: Infinity });
  }

  async countSet(key: string): Promise<number> {
    return this.readSet(key)?.members.size ?? 0;
  }

  async addToSet(key: string, member: string): Promise<boolean> {
    const entry = this.readSet(key);
    if (entry === undefined) {
      this.write(key, { type: 'set', members: new Set([member]), expiresAt: Infinity });
      return true;
    }
    if (entry.members.has(member)) return false;
    entry.members.add(member);
    return true;
  }

  async members(key: string): Promise<string[]> {
    return [...(this.readSet(key)?.members ?? [])];
  }

  async attempt(input: AttemptInput): Promise<AttemptResult> {
    checkAttemptInput(input);
    const now = Math.floor(input.now);
    const limit = input.limit;
    let { count, until } = this.counter(input.failKey, now);
    if (count >= limit) return { status: 'locked', retryAfterMs: until - now };

    const outcome = this.runAction(input.action);
    if (outcome === true) {
      this.entries.delete(input.failKey);
      return { status: 'ok' };
    }

    if (count === 0) until = now + Math.floor(input.windowMs);
    count += 1;
    const locked = count >= limit;
    if (locked) until = now + Math.floor(input.lockMs);
    const value = `${count}:${until}:${locked ? 1 : 0}`;
    this.write(input.failKey, { type: 'string', value, expiresAt: this.now() + Math.max(1, until - now) });
    return { status: 'invalid', failures: count, ...(outcome === 'taken' ? { taken: true as const } : {}) };
  }

  async failures(failKey: string, now: number): Promise<FailureState> {
    const { count, until, locked } = this.counter(failKey, Math.floor(now));
    return { failures: count, lockedUntil: locked ? until : null };
  }

  async ttl(key: string): Promise<number | null> {
    const entry = this.read(key);
    if (entry === undefined) return null;
    return entry.expiresAt === Infinity ? Infinity : entry.expiresAt - this.now();
  }

  /**
   * The action of an attempt; the caller has checked the lock. Returns whether it succeeded, or
   * 'taken' when a take-advance took its key but the counter did not advance.
   */
  private runAction(action: AttemptAction): boolean | 'taken' {
    switch (action.kind) {
      case 'check':
        return action.ok;
      case 'advance':
        return this.advance(action.key, action.value, action.ttlMs, false);
      case 'remove-member': {
        const members = this.readSet(action.key)?.members;
        const found = members && action.members.find((member) => members.has(member));
        if (members === undefined || found === undefined) return false;
        members.delete(found);
        // Redis deletes a set with its last member; mirror it so `ttl` and `size` agree.
        if (members.size === 0) this.entries.delete(action.key);
        return true;
      }
      case 'take':
        return this.takeIf(action.key, action.values);
      case 'take-advance':
        if (!this.takeIf(action.key, action.values)) return false;
        return this.advance(action.counterKey, action.value, action.ttlMs, true) || 'taken';
      default:
        throw new TypeError(
          `unknown attempt action kind ${JSON.stringify((action as { kind: unknown }).kind)}`,
        );
    }
  }

  /** Deletes the string at `key` if it equals one of `values`; true when it did. */
  private takeIf(key: string, values: string[]): boolean {
    const current = this.readString(key);
    if (current === undefined || !values.includes(current.value)) return false;
    this.entries.delete(key);
    return true;
  }

  /** `advance`, and take-advance's counter step (`zeroStays`: 0 passes while the number is missing or 0). */
  private advance(key: string, value: number, ttlMs: number, zeroStays: boolean): boolean {
    const current = this.readString(key);
    // A stored value that is not a number fails closed (Lua's tonumber gives nil; '' is not 0).
    const stored = current === undefined || current.value.trim() === '' ? undefined : Number(current.value);
    if (zeroStays && value === 0) return current === undefined || stored === 0;
    const ok = current === undefined || (stored !== undefined && stored < value);
    if (ok) this.write(key, { type: 'string', value: String(value), expiresAt: this.expiry(ttlMs) });
    return ok;
  }

  /** The failure counter as of `now` (app clock): an ended window or lock counts as no failures. */
  private counter(failKey: string, now: number): { count: number; until: number; locked: boolean } {
    return parseCounter(this.readString(failKey)?.value, now);
  }

  /** The entry at `key` if it is live; an expired one is deleted on the way. */
  private read(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private readString(key: string): Extract<Entry, { type: 'string' }> | undefined {
    const entry = this.read(key);
    if (entry !== undefined && entry.type !== 'string') throw new Error(WRONGTYPE);
    return entry;
  }

  private readSet(key: string): Extract<Entry, { type: 'set' }> | undefined {
    const entry = this.read(key);
    if (entry !== undefined && entry.type !== 'set') throw new Error(WRONGTYPE);
    return entry;
  }

  private write(key: string, entry: Entry): void {
    // Delete first so a rewritten key moves to the end of the Map's insertion order (sweeps stay fair).
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (++this.writesSinceSweep >= this.sweepAfterWrites) this.sweep();
  }

  private expiry(ttlMs: number | undefined): number {
    if (ttlMs === undefined) return Infinity;
    checkTtl(ttlMs);
    return this.now() + ttlMs;
  }

  /** Deletes every expired entry: O(keys), triggered only after as many writes, so O(1) amortized. */
  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(key);
    }
    this.writesSinceSweep = 0;
    this.sweepAfterWrites = Math.max(MIN_WRITES_PER_SWEEP, this.entries.size);
  }
}
