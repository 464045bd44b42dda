import { base32 } from 'rfc4648';

/**
 * A TOTP key whose codes for two neighbouring time steps are the same digits (found by searching
 * steps for one key: a coincidence of two neighbours is one in a million). Tests assert the
 * coincidence themselves, so the fixture cannot silently stop being one.
 */
export const COINCIDING = {
  /** The 20-byte key, as base32 (what the setup route would hand to an authenticator app). */
  secret: base32.stringify(Buffer.from('657870726573732d6d66612061646a6163656e74', 'hex'), { pad: false }),
  /** The earlier of the two steps; the next one has the same code. */
  step: 58_702_758,
  code: '895560',
} as const;
