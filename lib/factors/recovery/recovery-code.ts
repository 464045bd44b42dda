import { isSendableAddress } from '../../email-address.js';
import { generateHumanCode, normalizeHumanCode } from '../../human-code.js';

/** A fresh recovery code, in the format of backup codes: `xxxx-xxxx-xxxx-xxxx`. */
export const generateRecoveryCode = generateHumanCode;

/** The canonical form of a typed recovery code, or null when it cannot be one at all. */
export const normalizeRecoveryCode = normalizeHumanCode;

/**
 * The address as typed, in the one form every lookup and counter uses (trimmed, lower-cased), or
 * null when it cannot be an address express-mfa could send the code to.
 */
export function normalizeEmail(input: string): string | null {
  const email = input.trim().toLowerCase();
  return isSendableAddress(email) ? email : null;
}
