import type { MfaUser } from '../../options.js';

/**
 * The user's address on file if it can receive a code, else undefined. Whitespace and control
 * characters are refused outright: an address with a line break would be a header injection for
 * an SMTP sender an app writes itself.
 */
export function emailAddressOf(user: MfaUser | undefined): string | undefined {
  const email = user?.email;
  if (typeof email !== 'string' || email.length > 254) return undefined;
  return /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u.test(email) ? email : undefined;
}
