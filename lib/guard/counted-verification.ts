import type { FactorName } from '../keys.js';
import type { MfaSessionState } from '../session.js';

/** What a guard asks of a verification (see `GuardPolicy`). */
export interface VerificationRule {
  maxAgeMs: number;
  methods: readonly FactorName[] | undefined;
  sameClient: boolean;
}

export type Counted =
  /** A verification satisfies the rule: the latest one that does. */
  | { kind: 'pass'; verifiedAt: number; method: FactorName | undefined }
  /** One would, but it is too old. */
  | { kind: 'expired' }
  /** None would: never verified, or only by other factors, or only from another client. */
  | { kind: 'none' };

const NONE: Counted = { kind: 'none' };
const EXPIRED: Counted = { kind: 'expired' };

/** The factor whose verification is the session's latest one, when per-factor times are known. */
function latestMethod(state: MfaSessionState): FactorName | undefined {
  if (!state.at) return undefined;
  for (const [method, at] of Object.entries(state.at)) {
    if (at === state.verifiedAt) return method as FactorName;
  }
  return undefined;
}

/**
 * Which verification of `state` (this user's) counts for `rule` at `now`. Pure: it reads the session
 * as loaded, so the guard's pass path needs no store command. `client` is the request's fingerprint
 * (only read with `sameClient`). A session written before per-factor times were kept has none: it
 * satisfies a plain guard as before, but not `methods` or `sameClient` (one new verification fixes it).
 */
export function countedVerification(
  state: MfaSessionState,
  now: number,
  rule: VerificationRule,
  client: string | undefined,
): Counted {
  if (rule.methods === undefined && !rule.sameClient) {
    const verifiedAt = state.verifiedAt;
    if (verifiedAt === undefined) return NONE;
    if (now - verifiedAt > rule.maxAgeMs) return EXPIRED;
    return { kind: 'pass', verifiedAt, method: latestMethod(state) };
  }
  const at = state.at;
  if (!at) return NONE;
  if (rule.sameClient && client === undefined) return NONE;
  let best: number | undefined;
  let bestMethod: FactorName | undefined;
  let acceptable = false;
  for (const method of rule.methods ?? (Object.keys(at) as FactorName[])) {
    const time = at[method];
    if (typeof time !== 'number') continue;
    if (rule.sameClient && state.clients?.[method] !== client) continue;
    acceptable = true;
    if (now - time <= rule.maxAgeMs && (best === undefined || time > best)) {
      best = time;
      bestMethod = method;
    }
  }
  if (best !== undefined) return { kind: 'pass', verifiedAt: best, method: bestMethod };
  return acceptable ? EXPIRED : NONE;
}
