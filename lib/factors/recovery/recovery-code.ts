import { randomString } from '../../crypto.js';

// The format of backup codes (Crockford base32, grouped by four), so people meet one kind of code;
// kept here because factor folders do not import each other.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** 16 characters of 5 bits each: 80 bits, beyond guessing even without the attempt limit. */
const LENGTH = 16;

/** A fresh recovery code formatted for humans: `xxxx-xxxx-xxxx-xxxx`. */
export const generateRecoveryCode = () => randomString(ALPHABET, LENGTH).replace(/(.{4})(?!$)/g, '$1-');

/**
 * The canonical form of a typed code (case, spaces and dashes ignored; Crockford look-alikes mapped),
 * or null when it cannot be a recovery code at all.
 */
export function normalizeRecoveryCode(input: string): string | null {
  const code = input.toLowerCase().replace(/[\s-]/g, '').replace(/[il]/g, '1').replace(/o/g, '0');
  if (code.length !== LENGTH) return null;
  for (const c of code) if (!ALPHABET.includes(c)) return null;
  return code;
}

/**
 * The address as typed, in the one form every lookup and counter uses (trimmed, lower-cased), or
 * null when it cannot be an address.
 */
export function normalizeEmail(input: string): string | null {
  const email = input.trim().toLowerCase();
  if (email.length > 254) return null;
  return /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+$/u.test(email) ? email : null;
}
