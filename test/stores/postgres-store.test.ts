import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { storeContract } from 'express-mfa/testing';
import type pg from 'pg';
import { migrate, PostgresStore } from '../../lib/stores/postgres-store.js';
import { StoreUnavailableError } from '../../lib/stores/store.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres-server.js';

let server: TestPostgres;
/** Shared by the contract tests; each store gets its own table (and clock) instead of its own pool. */
let shared: pg.Pool;
let tables = 0;
/** A table name no other test (or earlier run against DATABASE_URL) uses. */
const freshTable = (name: string) => `${name}_${process.pid}_${++tables}`;

before(async () => {
  server = await startPostgres();
  shared = server.pool({ max: 10 });
});
after(() => server.close());

/** A store on its own table and hand-driven clock. */
function clockedStore(pool: pg.Pool, options: Partial<ConstructorParameters<typeof PostgresStore>[0]> = {}) {
  let clock = 1_000_000;
  const table = options.table ?? freshTable('contract');
  const store = new PostgresStore({ pool, table, now: () => clock, ...options });
  return {
    store,
    table,
    advance(ms: number) {
      clock += ms;
    },
  };
}

storeContract('PostgresStore', async () => {
  const { store, advance, table } = clockedStore(shared);
  return { store, advance, cleanup: async () => void (await shared.query(`DROP TABLE IF EXISTS ${table}`)) };
});

function unavailable(why: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${error}`);
    assert.match(error.message, why);
    return true;
  };
}

const rowCount = async (table: string) =>
  Number((await shared.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

describe('PostgresStore', () => {
  test('checks its options', () => {
    const message = 'PostgresStore needs { pool }: a node-postgres Pool';
    assert.throws(() => new PostgresStore(undefined as never), { message });
    assert.throws(() => new PostgresStore({} as never), { message });
    assert.throws(() => new PostgresStore({ pool: {} } as never), { message });
    for (const table of ['', 'MFA', 'a;drop table x', '"x"', 'a.b.c', 'x'.repeat(51), 1]) {
      assert.throws(
        () => new PostgresStore({ pool: shared, table } as never),
        /`table` must be a lowercase SQL name/,
        String(table),
      );
    }
    assert.throws(
      () => new PostgresStore({ pool: shared, commandTimeoutMs: 0 }),
      /`commandTimeoutMs` must be/,
    );
    assert.throws(
      () => new PostgresStore({ pool: shared, sweepIntervalMs: -1 }),
      /`sweepIntervalMs` must be/,
    );
    assert.throws(() => new PostgresStore({ pool: shared, autoMigrate: 'yes' } as never), /`autoMigrate`/);
    assert.throws(() => new PostgresStore({ pool: shared, ttl: 5 } as never), /unknown option `ttl`/);
  });

  test('creates its table on first use, in the schema given', async () => {
    await shared.query('CREATE SCHEMA IF NOT EXISTS auth');
    const table = `auth.${freshTable('records')}`;
    const store = new PostgresStore({ pool: shared, table });
    await store.ready();
    await store.set('{u:a}:k', 'v');
    assert.equal((await shared.query(`SELECT value FROM ${table} WHERE key = '{u:a}:k'`)).rows[0].value, 'v');
  });

  test('migrate() is safe twice and from many connections at once', async () => {
    const table = freshTable('migrated');
    // Separate pools: separate sessions, as separate processes would have.
    const pools = Array.from({ length: 6 }, () => server.pool({ max: 1 }));
    await Promise.all(pools.map((pool) => migrate({ pool, table })));
    await migrate({ pool: shared, table });
    await new PostgresStore({ pool: shared, table, autoMigrate: false }).migrate();
    const { rows } = await shared.query(`SELECT count(*) AS n FROM pg_class WHERE relname = $1`, [table]);
    assert.equal(Number(rows[0].n), 1);
    const store = new PostgresStore({ pool: shared, table, autoMigrate: false });
    await store.set('{u:a}:k', 'v');
    assert.equal(await store.get('{u:a}:k'), 'v');
    await Promise.all(pools.map((pool) => pool.end()));
  });

  test('without autoMigrate a missing table is a bug to report, not unavailability', async () => {
    const store = new PostgresStore({ pool: shared, table: freshTable('missing'), autoMigrate: false });
    await assert.rejects(store.get('{u:a}:k'), (error: Error) => {
      assert.ok(!(error instanceof StoreUnavailableError));
      assert.match(error.message, /relation .* does not exist/);
      return true;
    });
  });

  test('expired rows count as missing at once and are swept by a later write, without a timer', async () => {
    const { store, table, advance } = clockedStore(shared, { sweepIntervalMs: 60_000 });
    for (let i = 0; i < 20; i++) await store.set(`{u:s}:short${i}`, 'v', 1000);
    await store.set('{u:s}:long', 'v');
    await store.attempt({
      failKey: '{u:s}:f',
      limit: 3,
      windowMs: 5000,
      lockMs: 5000,
      now: 0,
      action: { kind: 'check', ok: false },
    });
    advance(5000);
    assert.equal(await store.get('{u:s}:short0'), null);
    assert.equal(await store.ttl('{u:s}:short0'), null);
    assert.equal(await rowCount(table), 22, 'still stored: reads only hide them');
    advance(60_000);
    await store.set('{u:s}:trigger', 'v');
    const deadline = Date.now() + 5000;
    while ((await rowCount(table)) !== 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(await rowCount(table), 2);
    assert.deepEqual(
      (await shared.query(`SELECT key FROM ${table} ORDER BY key`)).rows.map((r) => r.key),
      ['{u:s}:long', '{u:s}:trigger'],
    );
    assert.equal(await store.sweep(), 0);
  });

  test('a key that expired is replaced by set, addToSet and attempt like a missing one', async () => {
    const { store, advance } = clockedStore(shared);
    await store.set('{u:e}:a', 'old', 1000);
    await store.set('{u:e}:b', 'old', 1000);
    await store.set('{u:e}:step', '99', 1000);
    advance(1000);
    assert.equal(await store.addToSet('{u:e}:a', 'm'), true);
    assert.deepEqual(await store.members('{u:e}:a'), ['m']);
    assert.equal(await store.ttl('{u:e}:a'), Infinity);
    assert.equal(await store.take('{u:e}:b'), null);
    const step = { kind: 'advance', key: '{u:e}:step', value: 5, ttlMs: 60_000 } as const;
    const limits = { limit: 3, windowMs: 60_000, lockMs: 60_000, now: 0 };
    assert.deepEqual(await store.attempt({ failKey: '{u:e}:f', ...limits, action: step }), { status: 'ok' });
    assert.equal(await store.get('{u:e}:step'), '5');
  });

  test('a call that waits on a locked row gives up after commandTimeoutMs', async () => {
    const { store, table } = clockedStore(shared, { commandTimeoutMs: 300 });
    await store.set('{u:t}:code', 'h1');
    const holder = await shared.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT * FROM ${table} WHERE key = '{u:t}:code' FOR UPDATE`);
      const started = Date.now();
      await assert.rejects(
        store.attempt({
          failKey: '{u:t}:f',
          limit: 3,
          windowMs: 60_000,
          lockMs: 60_000,
          now: 0,
          action: { kind: 'take', key: '{u:t}:code', values: ['h1'] },
        }),
        unavailable(/did not answer within 300 ms/),
      );
      assert.ok(Date.now() - started < 1500);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    // The attempt that timed out still ran once the row was free; the code is used once either way.
    const deadline = Date.now() + 3000;
    while ((await store.get('{u:t}:code')) !== null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(await store.take('{u:t}:code'), null);
  });

  test('a database that is down fails fast as unavailable, and the store recovers without a restart', async (t) => {
    if (process.env.DATABASE_URL) return t.skip('cannot stop the server at DATABASE_URL');
    const pool = server.pool({ connectionTimeoutMillis: 1000 });
    const { store } = clockedStore(pool, { commandTimeoutMs: 1500 });
    await store.set('{u:d}:k', 'v');
    await server.stop();
    try {
      const started = Date.now();
      await assert.rejects(store.get('{u:d}:k'), StoreUnavailableError);
      await assert.rejects(
        store.attempt({
          failKey: '{u:d}:f',
          limit: 3,
          windowMs: 60_000,
          lockMs: 60_000,
          now: 0,
          action: { kind: 'check', ok: true },
        }),
        StoreUnavailableError,
      );
      assert.ok(Date.now() - started < 3500, `took ${Date.now() - started} ms`);
    } finally {
      await server.start();
    }
    // The pool may hand out a client that died with the server once more; then it reconnects.
    let value: string | null = null;
    for (let i = 0; i < 5 && value === null; i++) value = await store.get('{u:d}:k').catch(() => null);
    assert.equal(value, 'v');
  });
});
