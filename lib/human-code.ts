import { randomString } from './crypto.js';

/**
 * The one format of codes people copy by hand (backup codes, recovery codes), so they meet one kind
 * of code. Crockford's base32 alphabet: no i, l, o or u, so codes survive being read aloud or
 * handwritten.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** 16 characters of 5 bits each: 80 bits, beyond guessing even without the attempt limit. */
const LENGTH = 16;

/** A fresh code formatted for humans: `xxxx-xxxx-xxxx-xxxx`. */
export const generateHumanCode = (): string => randomString(ALPHABET, LENGTH).replace(/(.{4})(?!$)/g, '$1-');

/**
 * The canonical form of a typed code (case, spaces and dashes ignored; Crockford look-alikes mapped),
 * or null when it cannot be such a code at all.
 */
export function normalizeHumanCode(input: string): string | null {
  const code = input.toLowerCase().replace(/[\s-]/g, '').replace(/[il]/g, '1').replace(/o/g, '0');
  if (code.length !== LENGTH) return null;
  for (const c of code) if (!ALPHABET.includes(c)) return null;
  return code;
}
