import type { AttemptInput } from './store.js';

/** A TTL is a whole, positive, finite number of ms; no TTL is written as "omit it". */
export function checkTtl(ttlMs: number): void {
  if (!(Number.isFinite(ttlMs) && ttlMs > 0)) {
    throw new RangeError(`ttlMs must be a positive number of ms (omit it for no TTL), got ${ttlMs}`);
  }
}

/** Fails loudly on inputs that would otherwise lock forever or never (NaN compares false to everything). */
export function checkAttemptInput({ limit, windowMs, lockMs, now, action }: AttemptInput): void {
  if (!(Number.isInteger(limit) && limit >= 1))
    throw new RangeError(`attempt limit must be an integer >= 1, got ${limit}`);
  for (const [name, ms] of [
    ['windowMs', windowMs],
    ['lockMs', lockMs],
  ] as const) {
    if (!(Number.isFinite(ms) && ms >= 0))
      throw new RangeError(`attempt ${name} must be a number of ms >= 0, got ${ms}`);
  }
  if (!Number.isFinite(now)) throw new RangeError(`attempt now must be a finite time in ms, got ${now}`);
  if (action.kind === 'advance' || action.kind === 'take-advance') {
    if (!Number.isFinite(action.value))
      throw new RangeError(`advance value must be finite, got ${action.value}`);
    checkTtl(action.ttlMs);
  }
}

/** The failure counter "count:until:locked" as of `now`: an ended window or lock counts as none. */
export function parseCounter(
  raw: string | null | undefined,
  now: number,
): { count: number; until: number; locked: boolean } {
  const match = raw == null ? null : /^(\d+):(-?\d+):([01])$/.exec(raw);
  if (match === null || Number(match[2]) <= now) return { count: 0, until: 0, locked: false };
  return { count: Number(match[1]), until: Number(match[2]), locked: match[3] === '1' };
}
