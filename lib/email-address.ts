/**
 * Whether `email` can be an address express-mfa sends to: at most 254 characters, one `@`, a dot in
 * the domain, and no whitespace or control characters anywhere (an address with a line break would
 * be a header injection for an SMTP sender an app writes itself). The one check for every address:
 * the email factor's, security notices' and recovery's.
 */
export function isSendableAddress(email: string): boolean {
  return email.length <= 254 && /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u.test(email);
}
