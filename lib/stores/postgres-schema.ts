import type { Pool } from 'pg';
import { functionsSql } from './postgres-functions.js';

/** The default table name of `PostgresStore`. */
export const DEFAULT_TABLE = 'mfa_records';

/**
 * `name` or `schema.name`, each a plain lowercase SQL identifier (so quoting cannot change it); the
 * name has room for the functions' suffixes within PostgreSQL's 63 characters.
 */
const TABLE_NAME = /^([a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,49}$/;

/** The table name quoted for SQL, after checking it is a plain identifier. */
export function quoteTable(table: unknown): string {
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw new TypeError(
      `PostgresStore \`table\` must be a lowercase SQL name like 'mfa_records' or 'auth.mfa_records', got ${JSON.stringify(table)}`,
    );
  }
  return table
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}

/**
 * The one table. A row is a string (`value`) or a set (`members`, never both); `expires_at` is the
 * store clock's ms after which the row counts as missing (null: no TTL). Keys use the "C" collation:
 * they are compared byte by byte, never sorted for people.
 */
function schema(quoted: string, indexName: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${quoted} (
      key text COLLATE "C" PRIMARY KEY,
      value text,
      members text[],
      expires_at bigint,
      CHECK ((value IS NULL) <> (members IS NULL))
    )`,
    `CREATE INDEX IF NOT EXISTS "${indexName}" ON ${quoted} (expires_at) WHERE expires_at IS NOT NULL`,
  ];
}

/**
 * Creates the store's table and index when missing, and (re)creates its functions. Safe to run twice and from several processes
 * at once: a transaction-scoped advisory lock (keyed by the table name) lets one process create
 * while the others wait, then find everything in place. `CREATE ... IF NOT EXISTS` alone is not
 * enough: two concurrent creations of one table can both pass the check and one then fails.
 */
export async function migrate({
  pool,
  table = DEFAULT_TABLE,
}: {
  pool: Pool;
  table?: string;
}): Promise<void> {
  const quoted = quoteTable(table);
  const indexName = `${table.split('.').pop()}_expires_at`;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `express-mfa:migrate:${table}`,
    ]);
    for (const statement of [...schema(quoted, indexName), ...functionsSql(quoted, table)]) {
      await client.query(statement);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
