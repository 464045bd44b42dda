import { isSendableAddress } from '../../email-address.js';
import type { MfaUser } from '../../options.js';

/** The user's address on file if it can receive a code (see `isSendableAddress`), else undefined. */
export function emailAddressOf(user: MfaUser | undefined): string | undefined {
  const email = user?.email;
  return typeof email === 'string' && isSendableAddress(email) ? email : undefined;
}
