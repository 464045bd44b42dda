/**
 * The names of a table's functions: `<table>_attempt` and its helpers, in the table's schema.
 * (The table name is a checked plain identifier of at most 50 characters, so these stay valid.)
 */
export function functionNames(table: string) {
  const parts = table.split('.');
  const name = parts.pop()!;
  const schema = parts.length > 0 ? `"${parts[0]}".` : '';
  const fn = (suffix: string) => `${schema}"${name}_${suffix}"`;
  return { attempt: fn('attempt'), string: fn('string'), advance: fn('advance') };
}

/** SQLSTATE of a read of a set as a string (or the reverse): a bug, never "unavailable". */
export const WRONGTYPE_STATE = 'MF001';
const WRONGTYPE = `RAISE EXCEPTION USING ERRCODE = '${WRONGTYPE_STATE}', MESSAGE = 'WRONGTYPE Operation against a key holding the wrong kind of value'`;

/**
 * One rate-limited attempt as one function call, so it costs one round trip, like the Redis script
 * (lib/stores/redis-scripts.ts), which it follows decision for decision; see `AttemptInput` in
 * store.ts for the contract. The function first takes a transaction-scoped advisory lock per key (in
 * a fixed order), then locks the existing rows: parallel attempts on one counter or one code run one
 * after another. In READ COMMITTED each statement of a VOLATILE function takes a fresh snapshot, so
 * the reads after the locks see everything the previous holder committed.
 *
 * p_keys = [failure counter, the action's key?, take-advance's counter key?]; times are the
 * caller's clock (p_now) for the counter's logic and the store clock (p_store_now) for expiry. The
 * counter is the string "count:until:locked".
 */
export function functionsSql(quotedTable: string, table: string): string[] {
  const f = functionNames(table);
  const t = quotedTable;
  return [
    // The live string at p_key (null when missing or expired); a set there is WRONGTYPE.
    `CREATE OR REPLACE FUNCTION ${f.string}(p_key text, p_store_now bigint) RETURNS text
     LANGUAGE plpgsql VOLATILE AS $fn$
     DECLARE v_value text; v_members text[];
     BEGIN
       SELECT r.value, r.members INTO v_value, v_members FROM ${t} r
         WHERE r.key = p_key AND (r.expires_at IS NULL OR r.expires_at > p_store_now);
       IF v_members IS NOT NULL THEN ${WRONGTYPE}; END IF;
       RETURN v_value;
     END $fn$`,
    // Stores p_text at p_key if p_value is above the number there (a missing one is below anything;
    // one that is not a number fails closed). With p_zero_stays, 0 passes while the number is
    // missing or 0, and is not written.
    `CREATE OR REPLACE FUNCTION ${f.advance}(p_key text, p_value double precision, p_text text,
       p_expires bigint, p_zero_stays boolean, p_store_now bigint) RETURNS boolean
     LANGUAGE plpgsql VOLATILE AS $fn$
     DECLARE v_current text; v_stored double precision;
     BEGIN
       v_current := ${f.string}(p_key, p_store_now);
       IF v_current ~ '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$' THEN
         v_stored := v_current::double precision;
       END IF;
       IF p_zero_stays AND p_value = 0 THEN
         RETURN v_current IS NULL OR v_stored = 0;
       END IF;
       IF v_current IS NOT NULL AND (v_stored IS NULL OR v_stored >= p_value) THEN
         RETURN false;
       END IF;
       INSERT INTO ${t} (key, value, members, expires_at) VALUES (p_key, p_text, NULL, p_expires)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, members = NULL, expires_at = EXCLUDED.expires_at;
       RETURN true;
     END $fn$`,
    `CREATE OR REPLACE FUNCTION ${f.attempt}(p_keys text[], p_limit integer, p_window bigint,
       p_lock bigint, p_now bigint, p_store_now bigint, p_kind text, p_check boolean,
       p_value double precision, p_text text, p_expires bigint, p_candidates text[])
     RETURNS TABLE (status text, n bigint, taken boolean)
     LANGUAGE plpgsql VOLATILE AS $fn$
     DECLARE
       v_match text[];
       v_count bigint := 0;
       v_until bigint := 0;
       v_ok boolean := false;
       v_taken boolean := false;
       v_current text;
       v_members text[];
       v_member text;
       v_locked integer := 0;
     BEGIN
       PERFORM pg_advisory_xact_lock(l.h) FROM
         (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(p_keys) AS k ORDER BY 1) AS l;
       PERFORM 1 FROM ${t} r WHERE r.key = ANY (p_keys) ORDER BY r.key FOR UPDATE;

       v_match := regexp_match(${f.string}(p_keys[1], p_store_now), '^([0-9]+):(-?[0-9]+):[01]$');
       IF v_match IS NOT NULL AND v_match[2]::bigint > p_now THEN
         v_count := v_match[1]::bigint;
         v_until := v_match[2]::bigint;
       END IF;
       IF v_count >= p_limit THEN
         RETURN QUERY SELECT 'locked'::text, v_until - p_now, false;
         RETURN;
       END IF;

       IF p_kind = 'check' THEN
         v_ok := p_check;
       ELSIF p_kind = 'advance' THEN
         v_ok := ${f.advance}(p_keys[2], p_value, p_text, p_expires, false, p_store_now);
       ELSIF p_kind = 'remove-member' THEN
         SELECT r.members, r.value INTO v_members, v_current FROM ${t} r
           WHERE r.key = p_keys[2] AND (r.expires_at IS NULL OR r.expires_at > p_store_now);
         IF v_current IS NOT NULL THEN ${WRONGTYPE}; END IF;
         SELECT c INTO v_member FROM unnest(p_candidates) WITH ORDINALITY AS u(c, i)
           WHERE c = ANY (v_members) ORDER BY i LIMIT 1;
         IF v_member IS NOT NULL THEN
           v_ok := true;
           IF cardinality(v_members) = 1 THEN
             DELETE FROM ${t} WHERE key = p_keys[2];
           ELSE
             UPDATE ${t} SET members = array_remove(v_members, v_member) WHERE key = p_keys[2];
           END IF;
         END IF;
       ELSIF p_kind = 'take' OR p_kind = 'take-advance' THEN
         v_current := ${f.string}(p_keys[2], p_store_now);
         IF v_current IS NOT NULL AND v_current = ANY (p_candidates) THEN
           DELETE FROM ${t} WHERE key = p_keys[2];
           IF p_kind = 'take' THEN
             v_ok := true;
           ELSE
             v_taken := true;
             v_ok := ${f.advance}(p_keys[3], p_value, p_text, p_expires, true, p_store_now);
           END IF;
         END IF;
       ELSE
         RAISE EXCEPTION 'unknown attempt kind %', p_kind;
       END IF;

       IF v_ok THEN
         DELETE FROM ${t} WHERE key = p_keys[1];
         RETURN QUERY SELECT 'ok'::text, 0::bigint, false;
         RETURN;
       END IF;
       IF v_count = 0 THEN
         v_until := p_now + p_window;
       END IF;
       v_count := v_count + 1;
       IF v_count >= p_limit THEN
         v_until := p_now + p_lock;
         v_locked := 1;
       END IF;
       INSERT INTO ${t} (key, value, members, expires_at)
         VALUES (p_keys[1], v_count || ':' || v_until || ':' || v_locked, NULL,
                 p_store_now + greatest(1, v_until - p_now))
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, members = NULL, expires_at = EXCLUDED.expires_at;
       RETURN QUERY SELECT 'invalid'::text, v_count, v_taken;
     END $fn$`,
  ];
}
