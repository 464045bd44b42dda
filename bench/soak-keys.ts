import type { Redis } from 'ioredis';

/** A key's kind: the user's hash tag and the session id taken out (`mfa:{u:…}:totp:last-step`, `sess:…`). */
export const keyKind = (key: string) => key.replace(/\{u:[^}]*\}/, '{u:…}').replace(/^sess:.*/, 'sess:…');

/** Redis's keys counted by kind (SCAN, so only while the load is off: it walks every key). */
export async function keyKinds(redis: Redis): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const kind = keyKind(key);
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
  } while (cursor !== '0');
  return counts;
}
