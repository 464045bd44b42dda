import { duration, fail, integer, optionalObject } from '../../option-validators.js';
import type { AttemptLimitOptions } from '../../options.js';
import { MINUTE } from '../../time.js';

export interface WebAuthnOptions {
  /**
   * The relying party id: your site's domain, without scheme, port or path (e.g. 'acme.com';
   * 'localhost' in development). Passkeys are bound to it for good: changing it orphans them. Required.
   */
  rpId: string;
  /** The site name browsers show while creating a passkey. Default: `issuer`. */
  rpName?: string;
  /**
   * The origin your pages run on, e.g. 'https://acme.com', or a list of them. Each must be https
   * (http only on localhost) and its host `rpId` or a subdomain of it. Required.
   */
  origin: string | readonly string[];
  /** How long a challenge from a `*\/options` route can be answered (ms). Default 5 minutes. */
  challengeTtlMs?: number;
  /**
   * Limits of passwordless sign-in, per client (`req.ip`), never per user: credential ids are public,
   * so a per-user lock would let anyone lock a user out. Failed `/webauthn/login/verify` attempts: 10
   * within 15 minutes, then a 15 minute lock (successful sign-ins do not reset the count). Calls of
   * `/webauthn/login/options`, which may each create a session: 30 a minute (`maxOptionsPerMinute`).
   */
  loginLimits?: LoginLimitOptions;
}

export interface LoginLimitOptions extends AttemptLimitOptions {
  /** `/webauthn/login/options` calls per client address (`req.ip`) within a minute; past it 429. Default 30. */
  maxOptionsPerMinute?: number;
}

/** `webauthn` options with every default filled in. */
export interface WebAuthnConfig {
  rpId: string;
  rpName: string;
  origins: string[];
  challengeTtlMs: number;
  loginLimits: Required<LoginLimitOptions>;
}

const WEBAUTHN_KEYS = ['rpId', 'rpName', 'origin', 'challengeTtlMs', 'loginLimits'];
const LIMIT_KEYS = ['maxFailures', 'windowMs', 'lockoutMs', 'maxOptionsPerMinute'];
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

function parseRpId(value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    fail("`webauthn.rpId` is required: your site's domain, like 'acme.com' ('localhost' in development).");
  }
  if (value.includes('/') || value.includes(':')) {
    fail(`\`webauthn.rpId\` is a domain, not a URL or host:port: use 'acme.com', not '${value}'.`);
  }
  // Browsers refuse IP addresses as RP ids (WebAuthn: "a valid domain string").
  if (IPV4.test(value) || value.length > 253 || !value.split('.').every((label) => LABEL.test(label))) {
    fail(`\`webauthn.rpId\` must be a domain name like 'acme.com' or 'localhost', got '${value}'.`);
  }
  return value.toLowerCase();
}

const isLocalhost = (host: string) =>
  host === 'localhost' || host.endsWith('.localhost') || host === '127.0.0.1' || host === '[::1]';

function parseOrigin(value: unknown, rpId: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  // An origin is scheme + host (+ port): no path, not even a trailing slash, as browsers report it.
  if (!url || url.origin !== value) {
    fail(`\`webauthn.origin\` must be a full origin like https://acme.com, got ${JSON.stringify(value)}.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalhost(url.hostname))) {
    fail(
      `\`webauthn.origin\` ${value} is not secure: browsers only offer passkeys on https (or http://localhost).`,
    );
  }
  if (url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`)) {
    fail(
      `\`webauthn.origin\` ${value} is not on \`webauthn.rpId\` '${rpId}': its host must be ${rpId} or a subdomain of it.`,
    );
  }
  return value;
}

/**
 * Validates the `webauthn` option once, at `createMfa`, and fills in defaults. Undefined means
 * passkeys are off: their routes answer 404 and the factor is never listed.
 */
export function parseWebAuthnOptions(value: unknown, issuer: string): WebAuthnConfig | undefined {
  if (value === undefined) return undefined;
  const o = optionalObject(value, 'webauthn', WEBAUTHN_KEYS);
  const rpId = parseRpId(o.rpId);
  if (o.rpName !== undefined && (typeof o.rpName !== 'string' || o.rpName.trim() === '')) {
    fail("`webauthn.rpName` must be a non-empty string, like 'Acme' (default: `issuer`).");
  }
  if (o.origin === undefined || (Array.isArray(o.origin) && o.origin.length === 0)) {
    fail(
      "`webauthn.origin` is required: the origin your pages run on, like 'https://acme.com', or a list of them.",
    );
  }
  const list: unknown[] = Array.isArray(o.origin) ? o.origin : [o.origin];
  const origins = [...new Set(list.map((origin) => parseOrigin(origin, rpId)))];
  const limits = optionalObject(o.loginLimits, 'webauthn.loginLimits', LIMIT_KEYS);
  return {
    rpId,
    rpName: (o.rpName as string | undefined) ?? issuer,
    origins,
    challengeTtlMs: duration(o.challengeTtlMs, 'webauthn.challengeTtlMs', 5 * MINUTE),
    loginLimits: {
      maxFailures: integer(limits.maxFailures, 'webauthn.loginLimits.maxFailures', 10, 1, 1000),
      windowMs: duration(limits.windowMs, 'webauthn.loginLimits.windowMs', 15 * MINUTE),
      lockoutMs: duration(limits.lockoutMs, 'webauthn.loginLimits.lockoutMs', 15 * MINUTE),
      maxOptionsPerMinute: integer(
        limits.maxOptionsPerMinute,
        'webauthn.loginLimits.maxOptionsPerMinute',
        30,
        1,
        10_000,
      ),
    },
  };
}
