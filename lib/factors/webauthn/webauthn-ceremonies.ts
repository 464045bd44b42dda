import { randomBytes } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { PasskeyRecord } from './passkey-records.js';
import type { WebAuthnConfig } from './webauthn-options.js';

// The SimpleWebAuthn calls, and the checks it leaves to the relying party. Nothing here knows
// about Express, sessions or the store.

let simpleWebAuthn: Promise<typeof import('@simplewebauthn/server')> | undefined;

/**
 * SimpleWebAuthn, loaded once on first use: an app without passkeys never pays for it (it is the
 * heaviest import of the package). `preloadWebAuthn` starts the load when passkeys are configured.
 */
function webauthnLibrary() {
  simpleWebAuthn ??= import('@simplewebauthn/server');
  return simpleWebAuthn;
}

/** Starts loading SimpleWebAuthn now, so the first passkey request does not wait for it. */
export function preloadWebAuthn(): void {
  // A failure is reported by the request that needs the library; here it must not go unhandled.
  webauthnLibrary().catch(() => {});
}

const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

/** 32 bytes from the CSPRNG, base64url: WebAuthn asks for at least 16 random bytes per ceremony. */
export const newChallenge = (): string => randomBytes(32).toString('base64url');

const bytes = (b64url: string) => new Uint8Array(Buffer.from(b64url, 'base64url'));

/** Only transports the spec knows, so a client cannot make us store (and echo back) anything else. */
export const knownTransports = (list: readonly string[] | undefined): string[] =>
  [...new Set(list ?? [])].filter((t) => TRANSPORTS.has(t));

const descriptor = (r: PasskeyRecord) => ({
  id: r.id,
  transports: r.transports as AuthenticatorTransport[],
});

export async function registrationOptions(input: {
  config: WebAuthnConfig;
  challenge: string;
  userHandle: string;
  userName: string;
  displayName: string;
  exclude: readonly PasskeyRecord[];
}): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { config } = input;
  const { generateRegistrationOptions } = await webauthnLibrary();
  return generateRegistrationOptions({
    rpName: config.rpName,
    rpID: config.rpId,
    userName: input.userName,
    userDisplayName: input.displayName,
    // A random handle, never the app's user id: authenticators may show or leak it.
    userID: bytes(input.userHandle),
    challenge: bytes(input.challenge),
    // The browser gives up when the challenge would have expired anyway.
    timeout: config.challengeTtlMs,
    attestationType: 'none',
    // The user's passkeys: the browser refuses to create a second one on the same authenticator.
    excludeCredentials: input.exclude.map(descriptor),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
}

export async function authenticationOptions(input: {
  config: WebAuthnConfig;
  challenge: string;
  /** The user's passkeys; none for a discoverable (usernameless) sign-in. */
  allow: readonly PasskeyRecord[];
  userVerification: 'preferred' | 'required';
}): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { generateAuthenticationOptions } = await webauthnLibrary();
  return generateAuthenticationOptions({
    rpID: input.config.rpId,
    challenge: bytes(input.challenge),
    timeout: input.config.challengeTtlMs,
    allowCredentials: input.allow.map(descriptor),
    userVerification: input.userVerification,
  });
}

/** What a verified registration tells us to persist. */
export interface RegisteredCredential {
  id: string;
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: PasskeyRecord['deviceType'];
  backedUp: boolean;
}

/**
 * Verifies a registration response against our challenge, origins and RP id. Null when it does not
 * verify, including when SimpleWebAuthn throws on a malformed response: for the caller all of these
 * are one "invalid" answer.
 */
export async function checkRegistration(
  config: WebAuthnConfig,
  response: RegistrationResponseJSON,
  challenge: string,
): Promise<RegisteredCredential | null> {
  try {
    const { verifyRegistrationResponse } = await webauthnLibrary();
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: config.origins,
      expectedRPID: config.rpId,
      // Registration asks for user verification as 'preferred'; sign-in demands it separately.
      requireUserVerification: false,
    });
    if (!result.verified) return null;
    const info = result.registrationInfo;
    // The id we index is the one inside the signed authenticator data; `response.id` is only the
    // client's copy of it, so a mismatch means a tampered or broken client.
    if (info.credential.id !== response.id) return null;
    return {
      id: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: knownTransports(response.response.transports),
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
    };
  } catch {
    return null;
  }
}

/** What a verified assertion tells us. */
export interface VerifiedAssertion {
  newCounter: number;
  userVerified: boolean;
  backedUp: boolean;
}

/**
 * Verifies an assertion by `record`'s public key against our challenge, origins and RP id. Null when
 * it does not verify or is malformed. The signature counter is *not* judged here (see
 * `advanceCounter`): SimpleWebAuthn throws the same plain Error for a regression as for a forgery,
 * and a regression must be reported, so it is given counter 0 (which skips its check) and the caller
 * advances the stored counter atomically once the challenge is redeemed.
 */
export async function checkAssertion(input: {
  config: WebAuthnConfig;
  response: AuthenticationResponseJSON;
  challenge: string;
  record: PasskeyRecord;
  requireUserVerification: boolean;
}): Promise<VerifiedAssertion | null> {
  const { config, response, record } = input;
  // SimpleWebAuthn verifies with whatever credential it is given: that it is the asserted one is ours to check.
  if (response.id !== record.id) return null;
  try {
    const { verifyAuthenticationResponse } = await webauthnLibrary();
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: input.challenge,
      expectedOrigin: config.origins,
      expectedRPID: config.rpId,
      credential: { id: record.id, publicKey: bytes(record.publicKey), counter: 0 },
      requireUserVerification: input.requireUserVerification,
    });
    if (!result.verified) return null;
    const info = result.authenticationInfo;
    return {
      newCounter: info.newCounter,
      userVerified: info.userVerified,
      backedUp: info.credentialBackedUp,
    };
  } catch {
    return null;
  }
}
