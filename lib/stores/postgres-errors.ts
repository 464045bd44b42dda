import { StoreUnavailableError } from './store.js';

/**
 * SQLSTATEs that mean "cannot answer now" rather than "this statement is wrong": connection
 * exceptions (08), lock conflicts that outlived the retries (40001 serialization, 40P01 deadlock,
 * 55P03 lock timeout), read-only transaction (25006: a standby, e.g. during failover), insufficient
 * resources (53: disk full, out of memory, too many connections), statement timeout and server
 * shutdown (57014, 57P01-57P05), and system / I/O errors (58).
 */
const UNAVAILABLE_STATE = /^(08|53|58|57P0|57014|40001|40P01|55P03|25006)/;

/** SQLSTATEs a transaction may simply retry: it lost a race and changed nothing. */
export function isRetryable(error: unknown): boolean {
  const code = sqlState(error);
  return code === '40001' || code === '40P01';
}

/** The SQLSTATE of a server error reply (node-postgres's DatabaseError), or undefined. */
function sqlState(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && typeof severity === 'string' && /^[0-9A-Z]{5}$/.test(code)
    ? code
    : undefined;
}

/**
 * Server replies that mean "cannot answer now" and every connection-level failure (refused, reset,
 * terminated, pool timeout) become `StoreUnavailableError`; replies that signal a bug (syntax, a
 * missing table, a violated constraint) and our own TypeError/RangeError stay as they are.
 */
export function asPostgresStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || !(error instanceof Error)) return error;
  if (error instanceof TypeError || error instanceof RangeError || error.name === 'WrongTypeError')
    return error;
  const code = sqlState(error);
  if (code !== undefined && !UNAVAILABLE_STATE.test(code)) return error;
  return new StoreUnavailableError(`PostgreSQL is unavailable: ${error.message}`, { cause: error });
}
