import type { FactorName } from '../keys.js';

/**
 * Factors a phishing site cannot relay: a passkey signs the origin it is used on (WebAuthn §13.4.1),
 * so an assertion made for a look-alike site is worthless here. Codes (TOTP, email, SMS, backup
 * codes) are typed by a person and can be typed into the wrong site.
 */
export const PHISHING_RESISTANT: readonly FactorName[] = ['webauthn'];

/** Of `factors`, the phishing-resistant ones, in the same order: what a page should offer first. */
export function phishingResistant(factors: readonly FactorName[]): FactorName[] {
  return factors.filter((f) => PHISHING_RESISTANT.includes(f));
}
