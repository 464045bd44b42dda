import type { Pool } from 'pg';
import { DEFAULT_TABLE, quoteTable } from './postgres-schema.js';

export interface PostgresStoreOptions {
  /** A node-postgres `Pool`. The store borrows clients from it and never ends or reconfigures it. */
  pool: Pool;
  /** The table holding the records (default `'mfa_records'`); `schema.table` is fine. */
  table?: string;
  /**
   * Create the table on first use (default true). Set false where the app's database role may not
   * run DDL, and run `migrate({ pool, table })` from a deploy step instead.
   */
  autoMigrate?: boolean;
  /**
   * Longest wait for one store call, in ms, including waiting for a free pool client (default
   * 2000). Past it the call rejects with `StoreUnavailableError`: a stalled database turns into a
   * quick 503 rather than hung requests.
   */
  commandTimeoutMs?: number;
  /**
   * How often expired rows are deleted, in ms of the store clock (default 60000). There is no timer
   * and no cron: a write that finds the last sweep this long ago starts one in the background
   * (a bounded batch of rows). Expired rows count as missing either way.
   */
  sweepIntervalMs?: number;
  /** Clock for TTLs, in ms (default `Date.now`). Tests inject one to expire rows without sleeping. */
  now?: () => number;
}

const KNOWN_OPTIONS = ['pool', 'table', 'autoMigrate', 'commandTimeoutMs', 'sweepIntervalMs', 'now'];

/** The options with their defaults, checked once, with a sentence that says how to fix each. */
export function parsePostgresStoreOptions(options: PostgresStoreOptions): Required<PostgresStoreOptions> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('PostgresStore needs { pool }: a node-postgres Pool');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(key)) {
      throw new TypeError(
        `PostgresStore got unknown option \`${key}\`; known options: ${KNOWN_OPTIONS.join(', ')}`,
      );
    }
  }
  const {
    pool,
    table = DEFAULT_TABLE,
    autoMigrate = true,
    commandTimeoutMs = 2000,
    sweepIntervalMs = 60_000,
    now = Date.now,
  } = options;
  const p = pool as unknown as Record<string, unknown> | null;
  if (
    p === null ||
    typeof p !== 'object' ||
    typeof p.query !== 'function' ||
    typeof p.connect !== 'function'
  ) {
    throw new TypeError('PostgresStore needs { pool }: a node-postgres Pool');
  }
  quoteTable(table);
  for (const [name, ms] of [
    ['commandTimeoutMs', commandTimeoutMs],
    ['sweepIntervalMs', sweepIntervalMs],
  ] as const) {
    if (!(typeof ms === 'number' && Number.isFinite(ms) && ms > 0)) {
      throw new TypeError(`PostgresStore \`${name}\` must be a positive number of ms, got ${String(ms)}`);
    }
  }
  if (typeof autoMigrate !== 'boolean') {
    throw new TypeError(`PostgresStore \`autoMigrate\` must be true or false, got ${String(autoMigrate)}`);
  }
  if (typeof now !== 'function') {
    throw new TypeError('PostgresStore option `now` must be a function returning ms, like Date.now');
  }
  return { pool: pool as Pool, table, autoMigrate, commandTimeoutMs, sweepIntervalMs, now };
}
