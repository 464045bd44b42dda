/**
 * Redis `maxmemory-policy` values under which a key without a TTL is never evicted. MFA records
 * (TOTP secrets, passkeys, backup-code hashes) have no TTL: under any other policy Redis may drop
 * one when memory runs short, and a dropped record reads exactly like "this user has no factor".
 */
const SAFE_POLICIES = new Set([
  'noeviction',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
]);

/** The sentence that refuses `policy` (with the fix in it), or null when the policy keeps records. */
export function evictionProblem(policy: string, server: string): string | null {
  if (SAFE_POLICIES.has(policy)) return null;
  return (
    `Redis ${server} has maxmemory-policy "${policy}", which may evict MFA records (they have no TTL) ` +
    'and make an enrolled user look like one without a factor; set it to noeviction ' +
    '(CONFIG SET maxmemory-policy noeviction, and maxmemory-policy noeviction in redis.conf) ' +
    'or to a volatile-* policy, or use a Redis that is not a cache for MFA records.'
  );
}
