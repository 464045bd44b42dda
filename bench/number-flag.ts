/** A numeric command-line flag: `fallback` when absent, else a number of at least `min` (or an error naming the flag). */
export function numberFlag(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got ${value}`);
  return n;
}
