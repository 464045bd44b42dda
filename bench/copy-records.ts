import type { Redis } from 'ioredis';
import type pg from 'pg';
import { migrate } from '../lib/stores/postgres-store.js';

/**
 * Copies every MFA record the enrolment wrote to Redis (RedisStore's default `mfa:` prefix) into a
 * PostgresStore's table, keys unchanged minus the prefix and TTLs carried over, so a server on
 * PostgreSQL serves the same users as the one on Redis. (Both stores use the package's key names,
 * which is what makes this a plain copy.) Resolves with the number of records copied.
 */
export async function copyRecords(redis: Redis, pool: pg.Pool, prefix = 'mfa:'): Promise<number> {
  await migrate({ pool });
  let copied = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const types = (await redis.pipeline(keys.map((k) => ['type', k])).exec()) ?? [];
    const reads = keys.map((k, i) =>
      types[i]?.[1] === 'set' ? ['smembers', k] : types[i]?.[1] === 'string' ? ['get', k] : ['exists', k],
    );
    const values = (await redis.pipeline(reads).exec()) ?? [];
    const ttls = (await redis.pipeline(keys.map((k) => ['pttl', k])).exec()) ?? [];
    const now = Date.now();
    const rows = keys.flatMap((key, i) => {
      const type = types[i]?.[1];
      if (type !== 'set' && type !== 'string') return [];
      const ttl = Number(ttls[i]?.[1]);
      const value = values[i]?.[1];
      return [
        {
          key: key.slice(prefix.length),
          value: type === 'string' ? String(value) : null,
          members: type === 'set' ? JSON.stringify(value) : null,
          expires_at: ttl > 0 ? now + ttl : null,
        },
      ];
    });
    await pool.query(
      `INSERT INTO mfa_records (key, value, members, expires_at)
       SELECT r.key, r.value,
         CASE WHEN r.members IS NULL THEN NULL ELSE ARRAY(SELECT json_array_elements_text(r.members::json)) END,
         r.expires_at
       FROM json_to_recordset($1::json) AS r(key text, value text, members text, expires_at bigint)
       ON CONFLICT (key) DO NOTHING`,
      [JSON.stringify(rows)],
    );
    copied += rows.length;
  } while (cursor !== '0');
  return copied;
}
