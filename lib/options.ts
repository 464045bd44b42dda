import type { Request } from 'express';
import type { EmailSender, SmsSender } from './delivery/sender.js';
import type { MfaEvent } from './events.js';
import {
  type CodeOptions,
  type DeliveryConfig,
  type MessageOptions,
  type PhoneOptions,
  parseDeliveryOptions,
} from './factors/email-sms/delivery-options.js';
import {
  type EndSessions,
  type FindUserByEmail,
  parseRecoveryOptions,
  type RecoveryConfig,
  type RecoveryOptions,
} from './factors/recovery/recovery-options.js';
import {
  parseWebAuthnOptions,
  type WebAuthnConfig,
  type WebAuthnOptions,
} from './factors/webauthn/webauthn-options.js';
import { type OnRequired, type PagesOptions, parseOnRequired, parsePages } from './guard/guard-options.js';
import { checkKeys, duration, fail, integer, optionalObject } from './option-validators.js';
import { parseSignInOptions, type SignInConfig, type SignInOptions } from './sign-in/sign-in-options.js';
import type { Store } from './stores/store.js';
import { MINUTE } from './time.js';
import {
  parseTrustedDeviceOptions,
  type TrustedDeviceConfig,
  type TrustedDeviceOptions,
} from './trusted-devices/trusted-device-options.js';

// Still importable from here, for parsers written against this file.
/** The widest `totp.window` (steps either side of now) createMfa accepts. */
export const MAX_TOTP_WINDOW = 10;

export { checkKeys, duration, fail, integer, optionalObject };

/** The signed-in user as the app knows it. */
export interface MfaUser {
  id: string;
  email?: string;
  name?: string;
  /** Language tag for the messages express-mfa sends (`'de'`, `'pt-BR'`); else Accept-Language decides. */
  locale?: string;
}

/**
 * What `getUser` (and `findUserByEmail`) may return: the id may also be a number (SQL ids, as
 * Passport's `req.user` carries them). express-mfa uses it as a string: `42` and `'42'` are one user.
 */
export type AppUser = Omit<MfaUser, 'id'> & { id: string | number };

export interface AttemptLimitOptions {
  /** Failed attempts allowed per user and factor before the factor locks. Default 5. */
  maxFailures?: number;
  /** Failures are counted within this window, from the first one (ms). Default 15 minutes. */
  windowMs?: number;
  /** How long a factor stays locked once `maxFailures` is reached (ms). Default 15 minutes. */
  lockoutMs?: number;
}

export interface TotpOptions {
  /** How long a secret from `/totp/setup` waits for `/totp/confirm` (ms). Default 10 minutes. */
  pendingTtlMs?: number;
  /** Time steps accepted either side of now, for clock drift. Default 1 (±30 s). */
  window?: number;
}

/** Where express-mfa reports what an operator must see: misuse (warn) and unexpected errors (error). */
export interface MfaLogger {
  warn(message: string): void;
  error(message: string, detail?: string): void;
}

export interface MfaOptions {
  /** Name shown in authenticator apps and messages, e.g. 'Acme'. Required. */
  issuer: string;
  /** Where MFA records live: `new RedisStore({ client })`, or `new MemoryStore()` for development. Required. */
  store: Store;
  /**
   * At least 32 characters, or `[current, ...previous]` to rotate: encrypts TOTP secrets and keys the
   * hashes of stored codes. New data uses the first; reading tries each. Required.
   */
  secret: string | readonly string[];
  /** The signed-in user from the app's primary login, or undefined. Called on every guarded request. Required. */
  getUser: (req: Request) => AppUser | undefined | null;
  /** Receives audit events (never a secret or code). Errors it throws are ignored. */
  onEvent?: (event: MfaEvent) => void | Promise<void>;
  /** The clock, in ms since the epoch. Default `Date.now`; tests inject their own. */
  now?: () => number;
  /**
   * Receives one sentence per misuse (no session middleware, the router mounted without a path,
   * `MemoryStore` in production) and the stack of unexpected errors (never secrets or codes).
   * Default `console`.
   */
  logger?: MfaLogger;
  /** How recent an MFA must be to add, remove or regenerate factors (ms). Default 5 minutes. */
  freshMaxAgeMs?: number;
  /** Attempt limits for every factor. */
  limits?: AttemptLimitOptions;
  /** TOTP settings. */
  totp?: TotpOptions;
  /** Passkeys (WebAuthn): `{ rpId, origin, rpName? }`. Omit it and the passkey routes are off (404). */
  webauthn?: WebAuthnOptions;
  /**
   * Signs a user in after a passwordless passkey sign-in (`/webauthn/login/verify`), like your password
   * login does, e.g. `(req, userId) => { req.session.user = users.get(userId) }`; may be async. It runs
   * on a freshly regenerated session, and `getUser(req)` must return that user afterwards. Without it
   * the passkey sign-in routes answer 404 `not_found` (passkeys still work as a second factor).
   */
  onLogin?: (req: Request, userId: string) => void | Promise<void>;
  /**
   * Sends email codes: `sendgridEmail({ apiKey, from })` from 'express-mfa/sendgrid', `outboxEmail()`
   * for development, or your own `{ send({ to, subject, text, html }) }`. Omit it and email codes are
   * off. With it, every user whose `getUser` result has an `email` has the email factor implicitly.
   */
  email?: EmailSender;
  /**
   * Sends SMS codes: `twilioSms({ accountSid, authToken, from })` from 'express-mfa/twilio',
   * `outboxSms()` for development, or your own `{ send({ to, body }) }`. Omit it and SMS is off.
   */
  sms?: SmsSender;
  /** Email and SMS code rules: length 6, valid 5 minutes, 5 tries, 30 s between sends, 10 sends an hour. */
  codes?: CodeOptions;
  /** Your own wording for the emails and SMS express-mfa sends, per app and per language. */
  messages?: MessageOptions;
  /** Which phone numbers may be bound for SMS codes. */
  phone?: PhoneOptions;
  /**
   * Turns on account recovery for users who lost every factor (`/recovery/start`, `/recovery/complete`):
   * finds the account that uses an address, e.g. `(email) => users.findByEmail(email)`; may be async.
   * It receives the address trimmed and lower-cased, and must return `{ id, email }` or undefined.
   * Recovery emails a code, so it needs `email` (an email sender) too. Without it the recovery
   * routes answer 404.
   */
  findUserByEmail?: FindUserByEmail;
  /**
   * Ends every session of a user: called when they complete account recovery (before the recovery
   * session is created), so a session opened with the lost factors, or by whoever took them, does not
   * stay signed in and MFA-verified. E.g. destroy the sessions your store holds for the user
   * (`req.sessionStore`). Without it other sessions last until they expire. Needs `findUserByEmail`.
   */
  endSessions?: EndSessions;
  /** Recovery settings: code and session lifetime (15 minutes each), requests per account and client. */
  recovery?: RecoveryOptions;
  /**
   * Sign-in with a second factor through `mfa.signIn(req, res, user)`: how long a sign-in waits for
   * its second factor, whether emailed codes count, and whether users without a factor must enrol.
   */
  signIn?: SignInOptions;
  /**
   * "Remember this device": a sign-in verified with `{ rememberDevice: true }` sets a cookie that
   * skips the second factor at later sign-ins on that browser (never at step-up). `true` for the
   * defaults (30 days, 10 devices per user, cookie `mfa_device`). Off when absent.
   */
  trustedDevices?: TrustedDeviceOptions | boolean;
  /**
   * Your browser pages, paths on this site: `{ verify: '/verify', enrol?: '/account/security' }`. A
   * guard's refusal of a GET/HEAD navigation that prefers HTML becomes a 303 to `verify` (to `enrol`
   * for a user without an acceptable factor) with `?returnTo=<original path and query>`; API calls
   * keep the JSON answer. Default: JSON only.
   */
  pages?: PagesOptions;
  /** Answers every guard's refusals yourself (`(req, res, error) => ...`); a guard's own option wins. Default none. */
  onRequired?: OnRequired;
}

export interface MfaConfig {
  issuer: string;
  store: Store;
  secrets: string[];
  getUser: MfaOptions['getUser'];
  onEvent: NonNullable<MfaOptions['onEvent']> | undefined;
  now: () => number;
  logger: MfaLogger;
  freshMaxAgeMs: number;
  limits: Required<AttemptLimitOptions>;
  totp: Required<TotpOptions>;
  webauthn: WebAuthnConfig | undefined;
  onLogin: NonNullable<MfaOptions['onLogin']> | undefined;
  email: DeliveryConfig['email'];
  sms: DeliveryConfig['sms'];
  codes: DeliveryConfig['codes'];
  messages: DeliveryConfig['messages'];
  phone: DeliveryConfig['phone'];
  /** Account recovery; undefined when off (no `findUserByEmail`). */
  recovery: RecoveryConfig | undefined;
  signIn: SignInConfig;
  /** Trusted devices; undefined when off. */
  trustedDevices: TrustedDeviceConfig | undefined;
  pages: Required<PagesOptions> | undefined;
  onRequired: OnRequired | undefined;
}

const TOP_KEYS = [
  'issuer',
  'store',
  'secret',
  'getUser',
  'onEvent',
  'now',
  'logger',
  'freshMaxAgeMs',
  'limits',
  'totp',
  'webauthn',
  'onLogin',
  'email',
  'sms',
  'codes',
  'messages',
  'phone',
  'findUserByEmail',
  'endSessions',
  'recovery',
  'signIn',
  'trustedDevices',
  'pages',
  'onRequired',
];
const LIMIT_KEYS = ['maxFailures', 'windowMs', 'lockoutMs'];
const TOTP_KEYS = ['pendingTtlMs', 'window'];
const STORE_METHODS = [
  'get',
  'set',
  'delete',
  'take',
  'replaceSet',
  'countSet',
  'addToSet',
  'members',
  'attempt',
  'failures',
  'ttl',
];

function fn<T>(value: unknown, name: string, required: boolean, example: string): T | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'function') fail(`\`${name}\` must be a function, like ${example}.`);
  return value as T;
}

function parseLogger(value: unknown): MfaLogger {
  // Looked up on each call, so a console replaced later (tests, log shippers) is the one used.
  if (value === undefined) {
    return {
      warn: (message) => console.warn(message),
      error: (message, detail) =>
        detail === undefined ? console.error(message) : console.error(message, detail),
    };
  }
  const logger = value as Partial<MfaLogger> | null;
  if (typeof logger?.warn !== 'function' || typeof logger.error !== 'function') {
    fail('`logger` must have `warn(message)` and `error(message)` methods, like `console` or a pino logger.');
  }
  // Bound once: loggers such as pino rely on `this`.
  return { warn: logger.warn.bind(logger), error: logger.error.bind(logger) };
}

/** Validates options once, at `createMfa`, and fills in every default. */
export function parseOptions(input: unknown): MfaConfig {
  if (typeof input !== 'object' || input === null) fail('createMfa(options) needs an options object.');
  checkKeys(input, TOP_KEYS, '');
  const o = input as Record<string, unknown>;

  if (typeof o.issuer !== 'string' || o.issuer.trim() === '')
    fail("`issuer` must be a non-empty string, like 'Acme'.");

  const store = o.store as Record<string, unknown> | undefined;
  if (typeof store !== 'object' || store === null) {
    fail('`store` is required: `new RedisStore({ client })`, or `new MemoryStore()` for development.');
  }
  const missing = STORE_METHODS.filter((m) => typeof store[m] !== 'function');
  if (missing.length > 0)
    fail(`\`store\` does not implement the Store contract: missing ${missing.join(', ')}.`);

  const secrets = typeof o.secret === 'string' ? [o.secret] : o.secret;
  if (
    o.secret instanceof Uint8Array ||
    (Array.isArray(secrets) && secrets.some((s) => s instanceof Uint8Array))
  ) {
    fail(
      "`secret` must be a string, not a Buffer: pass a string of at least 32 characters, e.g. buffer.toString('base64').",
    );
  }
  if (!Array.isArray(secrets) || secrets.length === 0) {
    fail('`secret` is required: a string of at least 32 characters (or [current, ...previous] to rotate).');
  }
  for (const s of secrets) {
    if (typeof s !== 'string' || s.length < 32) {
      fail(
        'every `secret` must be a string of at least 32 characters; generate one with `openssl rand -base64 32`.',
      );
    }
  }

  const limits = optionalObject(o.limits, 'limits', LIMIT_KEYS);
  const totp = optionalObject(o.totp, 'totp', TOTP_KEYS);
  const delivery = parseDeliveryOptions(o);
  return {
    issuer: o.issuer,
    store: store as unknown as Store,
    secrets: [...secrets] as string[],
    getUser: fn(o.getUser, 'getUser', true, '(req) => req.session.user')!,
    onEvent: fn(o.onEvent, 'onEvent', false, '(event) => log.info(event)'),
    now: fn<() => number>(o.now, 'now', false, '() => Date.now()') ?? Date.now,
    logger: parseLogger(o.logger),
    freshMaxAgeMs: duration(o.freshMaxAgeMs, 'freshMaxAgeMs', 5 * MINUTE),
    limits: {
      maxFailures: integer(limits.maxFailures, 'limits.maxFailures', 5, 1, 1000),
      windowMs: duration(limits.windowMs, 'limits.windowMs', 15 * MINUTE),
      lockoutMs: duration(limits.lockoutMs, 'limits.lockoutMs', 15 * MINUTE),
    },
    totp: {
      pendingTtlMs: duration(totp.pendingTtlMs, 'totp.pendingTtlMs', 10 * MINUTE),
      window: integer(totp.window, 'totp.window', 1, 0, MAX_TOTP_WINDOW),
    },
    webauthn: parseWebAuthnOptions(o.webauthn, o.issuer),
    onLogin: fn(o.onLogin, 'onLogin', false, '(req, userId) => { req.session.user = users.get(userId) }'),
    ...delivery,
    recovery: parseRecoveryOptions(o, delivery.email !== undefined),
    signIn: parseSignInOptions(o.signIn),
    trustedDevices: parseTrustedDeviceOptions(o.trustedDevices),
    pages: parsePages(o.pages),
    onRequired: parseOnRequired(o.onRequired),
  };
}
