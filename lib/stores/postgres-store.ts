import type { Pool } from 'pg';
import { checkAttemptInput, checkTtl, parseCounter } from './attempt-input.js';
import { asPostgresStoreError, isRetryable } from './postgres-errors.js';
import { functionNames } from './postgres-functions.js';
import { type PostgresStoreOptions, parsePostgresStoreOptions } from './postgres-options.js';
import { migrate, quoteTable } from './postgres-schema.js';
import type { AttemptAction, AttemptInput, AttemptResult, FailureState, Store } from './store.js';
import { StoreUnavailableError } from './store.js';

export type { PostgresStoreOptions } from './postgres-options.js';
export { migrate } from './postgres-schema.js';

type Row = { key: string; value: string | null; members: string[] | null; expires_at: string | null };

/** Rows deleted per sweep statement; a sweep repeats it while it fills the batch. */
const SWEEP_BATCH = 1000;
/** Tries of a statement that lost a race (serialization failure, deadlock) before giving up. */
const STATEMENT_TRIES = 3;

class WrongTypeError extends Error {
  override name = 'WrongTypeError';
  constructor() {
    super('WRONGTYPE Operation against a key holding the wrong kind of value');
  }
}

/**
 * A `Store` on PostgreSQL through node-postgres, in one table: strings and sets are rows, TTLs are
 * an expiry column (rows past it count as missing and are swept lazily), and the package's keys are
 * the primary key.
 *
 * Atomicity: each single-key call is one statement (a `DELETE ... RETURNING` take, an upsert whose
 * `ON CONFLICT` decides whether a set member is new), which PostgreSQL runs atomically under READ
 * COMMITTED. An `attempt` is one call of the table's PL/pgSQL function `<table>_attempt` (created by
 * `migrate`, see postgres-functions.ts): one round trip, like the Redis script, that takes an
 * advisory lock per key it touches (in a fixed order) and locks the existing rows before it
 * decides, so parallel attempts on one counter or one code run one after another.
 */
export class PostgresStore implements Store {
  private readonly pool: Pool;
  private readonly table: string;
  private readonly tableName: string;
  private readonly functions: ReturnType<typeof functionNames>;
  private readonly autoMigrate: boolean;
  private readonly commandTimeoutMs: number;
  private readonly sweepIntervalMs: number;
  private readonly now: () => number;
  private migrated: Promise<void> | undefined;
  private lastSweep: number;
  private sweeping: Promise<number> | undefined;

  constructor(options: PostgresStoreOptions) {
    const config = parsePostgresStoreOptions(options);
    this.pool = config.pool;
    this.table = config.table;
    this.tableName = quoteTable(config.table);
    this.functions = functionNames(config.table);
    this.autoMigrate = config.autoMigrate;
    this.commandTimeoutMs = config.commandTimeoutMs;
    this.sweepIntervalMs = config.sweepIntervalMs;
    this.now = config.now;
    this.lastSweep = config.now();
  }

  /** Creates the table when missing (see `migrate`); safe to call any number of times, from any process. */
  async migrate(): Promise<void> {
    await this.run(() => migrate({ pool: this.pool, table: this.table }), false);
  }

  /**
   * Resolves once the database answers and the table exists (created when `autoMigrate`); rejects
   * with `StoreUnavailableError` otherwise. Await it at startup to fail the deploy, not the first login.
   */
  async ready(): Promise<void> {
    await this.run(() => this.pool.query(`SELECT 1 FROM ${this.tableName} LIMIT 1`));
  }

  async get(key: string): Promise<string | null> {
    const row = await this.read(key);
    if (row?.members) throw new WrongTypeError();
    return row?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const expiresAt = this.expiry(ttlMs);
    await this.run(() =>
      this.pool.query(
        `INSERT INTO ${this.tableName} (key, value, members, expires_at) VALUES ($1, $2, NULL, $3)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, members = NULL, expires_at = EXCLUDED.expires_at`,
        [key, value, expiresAt],
      ),
    );
    this.maybeSweep();
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    // Rows are locked in key order, like attempt's, so the two never wait on each other in a cycle.
    await this.run(() =>
      this.pool.query(
        `DELETE FROM ${this.tableName} WHERE key IN
           (SELECT key FROM ${this.tableName} WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE)`,
        [keys],
      ),
    );
  }

  async take(key: string): Promise<string | null> {
    // One DELETE: of parallel takes, the first deletes the row and the others then find none.
    const { rows } = await this.run(() =>
      this.pool.query<{ value: string }>(
        `DELETE FROM ${this.tableName} WHERE key = $1 AND members IS NULL
           AND (expires_at IS NULL OR expires_at > $2) RETURNING value`,
        [key, this.now()],
      ),
    );
    return rows[0]?.value ?? null;
  }

  async replaceSet(key: string, members: string[]): Promise<void> {
    if (members.length === 0) return this.delete(key);
    await this.run(() =>
      this.pool.query(
        `INSERT INTO ${this.tableName} (key, value, members, expires_at) VALUES ($1, NULL, $2::text[], NULL)
         ON CONFLICT (key) DO UPDATE SET value = NULL, members = EXCLUDED.members, expires_at = NULL`,
        [key, [...new Set(members)]],
      ),
    );
  }

  async countSet(key: string): Promise<number> {
    return (await this.members(key)).length;
  }

  async addToSet(key: string, member: string): Promise<boolean> {
    const now = this.now();
    // The upsert writes only when the member is new (or the row had expired), so of parallel
    // additions of one member exactly one returns a row; ON CONFLICT serializes them on the key.
    const { rows } = await this.run(() =>
      this.pool.query(
        `INSERT INTO ${this.tableName} AS r (key, value, members, expires_at) VALUES ($1, NULL, ARRAY[$2::text], NULL)
         ON CONFLICT (key) DO UPDATE SET
           value = NULL,
           members = CASE WHEN r.expires_at <= $3 THEN ARRAY[$2::text] ELSE r.members || $2::text END,
           expires_at = NULL
         WHERE r.expires_at <= $3 OR (r.members IS NOT NULL AND NOT ($2::text = ANY (r.members)))
         RETURNING 1`,
        [key, member, now],
      ),
    );
    if (rows.length === 1) return true;
    // Nothing written: the member was there already, or the key holds a string.
    if ((await this.read(key))?.value != null) throw new WrongTypeError();
    return false;
  }

  async members(key: string): Promise<string[]> {
    const row = await this.read(key);
    if (row !== undefined && row.members === null) throw new WrongTypeError();
    return row?.members ?? [];
  }

  async attempt(input: AttemptInput): Promise<AttemptResult> {
    checkAttemptInput(input);
    const { action } = input;
    if (!['check', 'advance', 'remove-member', 'take', 'take-advance'].includes(action.kind)) {
      throw new TypeError(
        `unknown attempt action kind ${JSON.stringify((action as { kind: unknown }).kind)}`,
      );
    }
    const advance = action.kind === 'advance' || action.kind === 'take-advance' ? action : undefined;
    const params = [
      [input.failKey, ...actionKeys(action)],
      input.limit,
      Math.floor(input.windowMs),
      Math.floor(input.lockMs),
      Math.floor(input.now),
      this.now(),
      action.kind,
      action.kind === 'check' ? action.ok : null,
      advance ? advance.value : null,
      advance ? String(advance.value) : null,
      advance ? this.now() + Math.ceil(advance.ttlMs) : null,
      action.kind === 'remove-member'
        ? action.members
        : action.kind === 'check' || action.kind === 'advance'
          ? []
          : action.values,
    ];
    const { rows } = await this.run(() =>
      retried(() =>
        this.pool.query<{ status: string; n: string; taken: boolean }>(
          `SELECT status, n, taken FROM ${this.functions.attempt}($1::text[], $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text[])`,
          params,
        ),
      ),
    );
    const [row] = rows;
    if (row === undefined) throw new Error('the attempt function returned no row');
    if (row.status === 'ok') {
      this.maybeSweep();
      return { status: 'ok' };
    }
    if (row.status === 'locked') return { status: 'locked', retryAfterMs: Number(row.n) };
    this.maybeSweep();
    return { status: 'invalid', failures: Number(row.n), ...(row.taken ? { taken: true as const } : {}) };
  }

  async failures(failKey: string, now: number): Promise<FailureState> {
    const row = await this.read(failKey);
    const { count, until, locked } = parseCounter(row?.value, Math.floor(now));
    return { failures: count, lockedUntil: locked ? until : null };
  }

  async ttl(key: string): Promise<number | null> {
    const row = await this.read(key);
    if (row === undefined) return null;
    return row.expires_at === null ? Infinity : Number(row.expires_at) - this.now();
  }

  /**
   * Deletes expired rows in batches; resolves with how many. Writes start it on their own every
   * `sweepIntervalMs`; call it from a job only if you want it sooner.
   */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      // SKIP LOCKED: rows an attempt holds are left for the next sweep instead of waited for.
      const { rowCount } = await this.run(() =>
        this.pool.query(
          `DELETE FROM ${this.tableName} WHERE key IN
             (SELECT key FROM ${this.tableName} WHERE expires_at <= $1 LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED)`,
          [this.now()],
        ),
      );
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < SWEEP_BATCH) return total;
    }
  }

  /** The live row at `key` (an expired one counts as missing and is left to the sweep). */
  private async read(key: string): Promise<Row | undefined> {
    const { rows } = await this.run(() =>
      this.pool.query<Row>(`SELECT key, value, members, expires_at FROM ${this.tableName} WHERE key = $1`, [
        key,
      ]),
    );
    const row = rows[0];
    return row === undefined || expired(row, this.now()) ? undefined : row;
  }

  /**
   * Runs one store call: migrates first (once) when `autoMigrate`, gives up after
   * `commandTimeoutMs`, and reports "cannot answer now" as `StoreUnavailableError`.
   */
  private async run<T>(operation: () => Promise<T>, migrateFirst = this.autoMigrate): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new StoreUnavailableError(`PostgreSQL did not answer within ${this.commandTimeoutMs} ms`)),
        this.commandTimeoutMs,
      );
    });
    try {
      const work = migrateFirst ? this.migratedOnce().then(operation) : operation();
      // Promise.race subscribes to the operation, so its late rejection after a timeout is handled.
      return await Promise.race([work, timeout]);
    } catch (error) {
      throw asPostgresStoreError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  private migratedOnce(): Promise<void> {
    this.migrated ??= migrate({ pool: this.pool, table: this.table }).catch((error) => {
      this.migrated = undefined;
      throw error;
    });
    return this.migrated;
  }

  /** Starts a background sweep when the last one is `sweepIntervalMs` old; its failure is only retried later. */
  private maybeSweep(): void {
    const now = this.now();
    if (this.sweeping !== undefined || now - this.lastSweep < this.sweepIntervalMs) return;
    this.lastSweep = now;
    this.sweeping = this.sweep()
      .catch(() => 0)
      .finally(() => {
        this.sweeping = undefined;
      });
  }

  private expiry(ttlMs: number | undefined): number | null {
    if (ttlMs === undefined) return null;
    checkTtl(ttlMs);
    return this.now() + Math.ceil(ttlMs);
  }
}

/** Runs a statement again when it lost a race (deadlock, serialization failure): it changed nothing. */
async function retried<T>(statement: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await statement();
    } catch (error) {
      if (attempt >= STATEMENT_TRIES || !isRetryable(error)) throw error;
    }
  }
}

function expired(row: Row, now: number): boolean {
  return row.expires_at !== null && Number(row.expires_at) <= now;
}

function actionKeys(action: AttemptAction): string[] {
  switch (action.kind) {
    case 'check':
      return [];
    case 'take-advance':
      return [action.key, action.counterKey];
    default:
      return [action.key];
  }
}
