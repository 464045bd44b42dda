import { randomString } from '../../crypto.js';

/** Crockford's base32 alphabet: no i, l, o or u, so codes survive being read aloud or handwritten. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** 16 characters of 5 bits each: 80 bits per code. */
const LENGTH = 16;

/** Fresh backup codes formatted for humans: `xxxx-xxxx-xxxx-xxxx`. */
export function generateBackupCodes(count: number): string[] {
  return Array.from({ length: count }, () => randomString(ALPHABET, LENGTH).replace(/(.{4})(?!$)/g, '$1-'));
}

/**
 * The canonical form of a typed code (case, spaces and dashes ignored; Crockford look-alikes mapped),
 * or null when it cannot be a backup code at all.
 */
export function normalizeBackupCode(input: string): string | null {
  const code = input.toLowerCase().replace(/[\s-]/g, '').replace(/[il]/g, '1').replace(/o/g, '0');
  if (code.length !== LENGTH) return null;
  for (const c of code) if (!ALPHABET.includes(c)) return null;
  return code;
}

/** The context a backup code's hash is bound to, so one user's hash never matches for another. */
export const backupCodeContext = (userId: string) => `backup-code:${userId}`;
