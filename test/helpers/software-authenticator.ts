import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

// A WebAuthn authenticator in software, for server tests: real P-256 keys (node:crypto), real
// attestation objects (fmt 'none') and real signed assertions, so the server's verification runs
// unmodified. Every field an attacker controls can be overridden to build hostile responses.

/** A minimal CBOR encoder (RFC 8949): integers, byte and text strings, arrays, maps. */
export function cbor(value: unknown): Buffer {
  const head = (major: number, n: number): Buffer => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
    if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError('cbor: only integers');
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

export interface SoftwareCredential {
  id: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  rpId: string;
  /** base64url user handle given at registration. */
  userHandle: string;
  counter: number;
}

/** What a test may change in a response; anything else is what an honest authenticator would send. */
export interface Overrides {
  origin?: string;
  rpId?: string;
  challenge?: string;
  type?: string;
  userVerified?: boolean;
  userPresent?: boolean;
  /** Registration: claim this credential id; assertion: use this (stored) credential. */
  credentialId?: string;
  /** Assertion: the counter to report (else the credential's next value). */
  counter?: number;
  /** Assertion: the user handle to send; null sends none. */
  userHandle?: string | null;
  /** Signs something other than what is sent. */
  badSignature?: boolean;
}

export class SoftwareAuthenticator {
  readonly credentials = new Map<string, SoftwareCredential>();
  /** Whether the user passes verification (PIN/biometrics) on this authenticator. */
  userVerified = true;
  /** Counters advance by this much per use; 0 models authenticators that do not count. */
  counterStep = 1;
  /** Sets the backup-eligible and backed-up flags (a synced passkey). */
  synced = false;

  constructor(readonly origin: string) {}

  private clientData(type: string, challenge: string, o: Overrides): Buffer {
    return Buffer.from(
      JSON.stringify({
        type: o.type ?? type,
        challenge: o.challenge ?? challenge,
        origin: o.origin ?? this.origin,
        crossOrigin: false,
      }),
    );
  }

  private flags(o: Overrides, extra = 0): number {
    let flags = extra;
    if (o.userPresent ?? true) flags |= FLAG_UP;
    if (o.userVerified ?? this.userVerified) flags |= FLAG_UV;
    if (this.synced) flags |= FLAG_BE | FLAG_BS;
    return flags;
  }

  /** navigator.credentials.create(): a new P-256 credential with a 'none' attestation. */
  createCredential(
    options: PublicKeyCredentialCreationOptionsJSON,
    o: Overrides = {},
  ): RegistrationResponseJSON {
    const rpId = o.rpId ?? options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const coseKey = new Map<number, unknown>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')],
    ]);
    const idBytes = o.credentialId ? Buffer.from(o.credentialId, 'base64url') : randomBytes(32);
    const id = b64url(idBytes);
    const counter = 0;
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(idBytes.length);
    const counterBytes = Buffer.alloc(4);
    counterBytes.writeUInt32BE(counter);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([this.flags(o, FLAG_AT)]),
      counterBytes,
      Buffer.alloc(16), // AAGUID: all zero, as for 'none' attestation
      idLength,
      idBytes,
      cbor(coseKey),
    ]);
    const attestationObject = cbor(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    this.credentials.set(id, { id, privateKey, publicKey, rpId, userHandle: options.user.id, counter });
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(this.clientData('webauthn.create', options.challenge, o)),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get(): an assertion by one of this authenticator's credentials. */
  getAssertion(
    options: PublicKeyCredentialRequestOptionsJSON,
    o: Overrides = {},
  ): AuthenticationResponseJSON {
    const allowed = options.allowCredentials ?? [];
    const credential = o.credentialId
      ? this.credentials.get(o.credentialId)
      : [...this.credentials.values()].find(
          (c) =>
            c.rpId === (options.rpId ?? c.rpId) &&
            (allowed.length === 0 || allowed.some((a) => a.id === c.id)),
        );
    if (!credential) throw new Error('NotAllowedError: no credential of this authenticator is allowed');
    const rpId = o.rpId ?? options.rpId ?? credential.rpId;
    credential.counter += this.counterStep;
    const counterBytes = Buffer.alloc(4);
    counterBytes.writeUInt32BE(o.counter ?? credential.counter);
    const authData = Buffer.concat([sha256(rpId), Buffer.from([this.flags(o)]), counterBytes]);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, o);
    // A bad signature is a well-formed one over other data, so only the cryptography can tell.
    const signed = Buffer.concat([authData, sha256(o.badSignature ? 'something else' : clientDataJSON)]);
    const signature = sign('sha256', signed, credential.privateKey);
    const userHandle = o.userHandle === undefined ? credential.userHandle : o.userHandle;
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(userHandle === null ? {} : { userHandle }),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
