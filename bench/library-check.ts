import { type AuthenticationResponseJSON, verifyAuthenticationResponse } from '@simplewebauthn/server';

/** What one assertion is checked against: the challenge it answers and the credential that signed it. */
export interface ExpectedAssertion {
  challenge: string;
  origin: string;
  rpId: string;
  /** The credential id (base64url). */
  id: string;
  /** Its COSE public key. */
  publicKey: Uint8Array<ArrayBuffer>;
}

/**
 * SimpleWebAuthn's check of an assertion as express-mfa's step-up calls it (checkAssertion in
 * lib/factors/webauthn/webauthn-ceremonies.ts): counter 0, so the library skips its counter check, and
 * user verification welcome but not required. False for any refusal, thrown or answered.
 */
export async function libraryVerifies(
  response: AuthenticationResponseJSON,
  expected: ExpectedAssertion,
): Promise<boolean> {
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: expected.challenge,
      expectedOrigin: [expected.origin],
      expectedRPID: expected.rpId,
      credential: { id: expected.id, publicKey: expected.publicKey, counter: 0 },
      requireUserVerification: false,
    });
    return result.verified;
  } catch {
    return false;
  }
}
