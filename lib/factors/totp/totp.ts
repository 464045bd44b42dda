import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { verifySync } from '@otplib/totp';
import { generateTOTP } from '@otplib/uri';
import { base32 as rfc4648 } from 'rfc4648';
import { MAX_TOTP_WINDOW } from '../../options.js';

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

/**
 * otplib's base32 plugin on rfc4648 (RFC 4648 base32, dual CommonJS/ESM). otplib's own default
 * pulls in ESM-only packages that Jest's CommonJS runtime cannot load.
 */
const base32 = {
  name: 'rfc4648',
  encode: (data: Uint8Array, options?: { padding?: boolean }) =>
    rfc4648.stringify(data, { pad: options?.padding ?? true }),
  decode: (text: string) => rfc4648.parse(text, { loose: true }),
};

/** otplib's HMAC through node:crypto (OpenSSL) rather than its pure-JS default (@noble/hashes). */
const nodeCrypto = {
  name: 'node:crypto',
  hmac: (algorithm: string, key: Uint8Array, data: Uint8Array) =>
    new Uint8Array(createHmac(algorithm, key).update(data).digest()),
  randomBytes: (length: number) => new Uint8Array(randomBytes(length)),
  constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array) {
    const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : Buffer.from(a);
    const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  },
};

const PERIOD_SECONDS = 30;
const CODE_SHAPES = { 6: /^\d{6}$/, 7: /^\d{7}$/, 8: /^\d{8}$/ } as const;

/** A new base32 TOTP secret of 160 bits (RFC 4226's recommended length), from node's CSPRNG. */
export function generateTotpSecret(): string {
  return base32.encode(randomBytes(20), { padding: false });
}

/** The otpauth:// URI authenticator apps scan. */
export function totpUri(secret: string, issuer: string, label: string): string {
  return generateTOTP({ issuer, label, secret });
}

export interface TotpCheck {
  /** Base32 string, or raw key bytes. */
  secret: string | Uint8Array;
  code: string;
  /** Injected clock, ms. */
  nowMs: number;
  /** Steps accepted either side of now. */
  window: number;
  digits?: 6 | 7 | 8;
  algorithm?: TotpAlgorithm;
}

/**
 * The RFC 6238 time step the code belongs to, or null when it matches none in the window.
 * Replay is not judged here: the caller advances the last accepted step atomically in the store.
 * Steps are tried nearest first (now, then one step either side, and so on), one at a time: two
 * steps' codes coincide once in a million, and of two steps with the same code the current one is
 * the one the user read off their app. Tried oldest first, the code of a step would be taken for
 * the previous step's, and refused as a replay when that step was just used. The usual code, the
 * current step's, also costs one HMAC rather than two. otplib's `epoch` is in seconds (ms would make
 * every code silently wrong) and it throws on malformed tokens, which are simply not valid codes.
 */
export function matchTotpStep(check: TotpCheck): number | null {
  const digits = check.digits ?? 6;
  // createMfa allows no other window: anything else here is a caller's bug, never a refusal to hide.
  if (!Number.isSafeInteger(check.window) || check.window < 0 || check.window > MAX_TOTP_WINDOW) {
    throw new RangeError(
      `TOTP window must be a whole number from 0 to ${MAX_TOTP_WINDOW}, got ${check.window}`,
    );
  }
  if (!CODE_SHAPES[digits].test(check.code)) return null;
  try {
    // Decoded once here rather than by otplib for each step tried.
    const secret = typeof check.secret === 'string' ? base32.decode(check.secret) : check.secret;
    const now = Math.floor(check.nowMs / 1000);
    for (let i = 0; i <= 2 * check.window; i++) {
      // Steps away from now, nearest first: 0, -1, +1, -2, +2, ...
      const epoch = now + (i % 2 === 1 ? -(i + 1) / 2 : i / 2) * PERIOD_SECONDS;
      if (epoch < 0) continue;
      const result = verifySync({
        secret,
        token: check.code,
        epoch,
        epochTolerance: 0,
        period: PERIOD_SECONDS,
        digits,
        algorithm: check.algorithm ?? 'sha1',
        crypto: nodeCrypto,
        base32,
      });
      if (result.valid && 'timeStep' in result) return result.timeStep;
    }
    return null;
  } catch {
    return null;
  }
}

/** Codes are typed by people: spaces and dashes are ignored. */
export const normalizeTotpCode = (input: string) => input.replace(/[\s-]/g, '');
