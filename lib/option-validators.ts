import { MfaOptionsError } from './errors.js';

// The checks every option parser shares (options.ts and the factor folders' own parsers), apart
// from options.ts so that the parsers and options.ts do not import each other.

export function fail(message: string): never {
  throw new MfaOptionsError(`express-mfa: ${message}`);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(
        row[j]! + 1,
        row[j - 1]! + 1,
        prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
      );
      prev = current;
    }
  }
  return row[b.length]!;
}

export function checkKeys(object: object, allowed: string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (allowed.includes(key)) continue;
    const near = allowed.filter((k) => distance(k, key) <= Math.max(2, Math.floor(k.length / 3)));
    const hint = near.length > 0 ? ` Did you mean \`${near[0]}\`?` : ` Known options: ${allowed.join(', ')}.`;
    fail(`unknown option \`${where}${key}\`.${hint}`);
  }
}

export function optionalObject(value: unknown, name: string, allowed: string[]): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(`\`${name}\` must be an object.`);
  checkKeys(value, allowed, `${name}.`);
  return value as Record<string, unknown>;
}

/** Whole milliseconds, at least one second: `15` meant as minutes would otherwise switch a limit off. */
export function duration(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1000) {
    fail(
      `\`${name}\` must be whole milliseconds of at least 1000, got ${String(value)}. Durations are in ms: did you mean ${String(value)} * MINUTE?`,
    );
  }
  return value;
}

export function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`\`${name}\` must be a whole number from ${min} to ${max}, got ${String(value)}.`);
  }
  return value;
}
