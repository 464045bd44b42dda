import type { Request, Response } from 'express';
import type { MfaError } from '../errors.js';
import type { FactorName } from '../keys.js';
import { checkKeys, fail } from '../option-validators.js';
import { safeReturnTo } from './return-to.js';

/** The verification a guard counted, as `risk` and `res.locals.mfa` see it. */
export interface GuardVerification {
  userId: string;
  /** When it happened (ms, injected clock). */
  verifiedAt: number;
  /** The factor it was made with; undefined for a session verified before per-factor times were kept. */
  method: FactorName | undefined;
  /** Every factor used in this session (like OIDC `amr`). */
  methods: FactorName[];
  /** How old it is now (ms). */
  ageMs: number;
}

/**
 * The app's own signal on a request that would pass: true demands a new verification now, whatever
 * its age; false lets it pass. May be async (its time is then the request's). Compare
 * `verification.verifiedAt` with when your signal appeared, or a new verification can never satisfy
 * it. Anything but true or false, a throw or a rejection refuses the request (the error goes to
 * `next(error)`): a broken signal never lets a request through.
 */
export type RiskCheck = (req: Request, verification: GuardVerification) => boolean | Promise<boolean>;

/**
 * Answers a guard's refusal instead of express-mfa: render your own page, or the JSON shape of your
 * API. `error` is the refusal (`code`, `status`, `message`, `extra` with `factors`...). May be async;
 * a throw or a rejection goes to `next(error)`.
 */
export type OnRequired = (req: Request, res: Response, error: MfaError) => void | Promise<void>;

/** `requireMfa(maxAgeMs, options)`. Every option keeps the pass path free of store commands. */
export interface GuardOptions {
  /**
   * Only a verification by one of these factors counts, e.g. `['webauthn']` for a phishing-resistant
   * step-up. Default: any factor.
   */
  methods?: readonly FactorName[];
  /**
   * Counts a verification only from the client that made it: the same IPv4 /24 or IPv6 /48 (from
   * `req.ip`, so set Express's 'trust proxy' behind a proxy) and the same User-Agent. A session cookie
   * replayed from elsewhere cannot pass. Default false.
   */
  sameClient?: boolean;
  /** The app's own risk signal; see `RiskCheck`. Default none. */
  risk?: RiskCheck;
  /** Answers this guard's refusals; overrides `createMfa({ onRequired })`. Default none. */
  onRequired?: OnRequired;
}

/** Browser pages the guard sends a refused navigation to (`createMfa({ pages })`). */
export interface PagesOptions {
  /** Your verify page, a path on this site like `'/verify'`; it gets `?returnTo=<path and query>`. Required. */
  verify: string;
  /** Your page to set up a first factor, for users who have none the route accepts. Default: `verify`. */
  enrol?: string;
}

/** A guard's options, validated. */
export interface GuardPolicy {
  maxAgeMs: number;
  methods: readonly FactorName[] | undefined;
  sameClient: boolean;
  risk: RiskCheck | undefined;
  onRequired: OnRequired | undefined;
}

export const FACTOR_NAMES: readonly FactorName[] = ['totp', 'webauthn', 'sms', 'email', 'backup_codes'];
const GUARD_KEYS = ['methods', 'sameClient', 'risk', 'onRequired'];
/** What people call a factor, and the name express-mfa gives it. */
const ALIASES: Record<string, FactorName> = {
  passkey: 'webauthn',
  passkeys: 'webauthn',
  fido2: 'webauthn',
  authenticator: 'totp',
  otp: 'totp',
  backup: 'backup_codes',
  backup_code: 'backup_codes',
  backupCodes: 'backup_codes',
  text: 'sms',
  phone: 'sms',
};

const OFF_HINT: Record<FactorName, string> = {
  totp: '',
  backup_codes: '',
  webauthn: 'passkeys are off: add the `webauthn` option to createMfa',
  sms: 'SMS codes are off: add an `sms` sender to createMfa',
  email: 'email codes are off: add an `email` sender to createMfa',
};

function checkMaxAge(maxAgeMs: unknown): number {
  const shown = String(maxAgeMs);
  if (typeof maxAgeMs !== 'number' || Number.isNaN(maxAgeMs) || maxAgeMs < 0) {
    fail(`requireMfa(maxAgeMs) takes milliseconds >= 0, like requireMfa(5 * MINUTE); got ${shown}.`);
  }
  if (maxAgeMs === Number.POSITIVE_INFINITY) return maxAgeMs;
  if (maxAgeMs === 0) {
    // The verification and the guarded request are two requests: by the second the clock has moved on.
    fail(
      'requireMfa(0) can never pass: a verification is always older than 0 ms by the next request. Use a short window like requireMfa(30 * SECOND), or `risk` to demand a new verification.',
    );
  }
  if (maxAgeMs < 1000) {
    fail(
      `requireMfa(${shown}) is ${shown} milliseconds: durations are in ms. Did you mean requireMfa(${shown} * MINUTE)?`,
    );
  }
  if (!Number.isInteger(maxAgeMs)) fail(`requireMfa(maxAgeMs) takes whole milliseconds; got ${shown}.`);
  return maxAgeMs;
}

function checkMethods(value: unknown, available: readonly FactorName[]): readonly FactorName[] | undefined {
  if (value === undefined) return undefined;
  const example = "like { methods: ['webauthn'] }";
  if (!Array.isArray(value) || value.length === 0) {
    fail(`requireMfa: \`methods\` must be a non-empty list of factors, ${example}.`);
  }
  for (const name of value) {
    if (typeof name === 'string' && (FACTOR_NAMES as readonly string[]).includes(name)) {
      const off = OFF_HINT[name as FactorName];
      if (!available.includes(name as FactorName)) {
        fail(`requireMfa: \`methods\` lists '${name}', but ${off}; nobody could pass this guard.`);
      }
      continue;
    }
    const alias = typeof name === 'string' ? ALIASES[name] : undefined;
    const hint = alias ? ` Did you mean '${alias}'?` : ` Factors: ${FACTOR_NAMES.join(', ')}.`;
    fail(`requireMfa: \`methods\` lists ${JSON.stringify(name)}, which is no factor.${hint}`);
  }
  return [...new Set(value as FactorName[])];
}

function optionalFunction<T>(value: unknown, name: string, example: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') fail(`\`${name}\` must be a function, like ${example}.`);
  return value as T;
}

/** `onRequired`, for createMfa and for a guard. */
export const parseOnRequired = (value: unknown, name = 'onRequired') =>
  optionalFunction<OnRequired>(value, name, "(req, res, error) => res.status(error.status).render('mfa')");

/**
 * Validates `requireMfa(maxAgeMs, options)` when the guard is built, so a mistake fails at startup with
 * a sentence that says how to fix it. `available` lists the factors this instance serves.
 */
export function parseGuardOptions(
  maxAgeMs: unknown,
  options: unknown,
  available: readonly FactorName[],
): GuardPolicy {
  const checked = checkMaxAge(maxAgeMs);
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    fail("requireMfa(maxAgeMs, options): `options` must be an object, like { methods: ['webauthn'] }.");
  }
  const o = (options ?? {}) as Record<string, unknown>;
  try {
    checkKeys(o, GUARD_KEYS, '');
  } catch (error) {
    fail(`requireMfa: ${(error as Error).message.replace(/^express-mfa: /, '')}`);
  }
  if (o.sameClient !== undefined && typeof o.sameClient !== 'boolean') {
    fail(`requireMfa: \`sameClient\` must be true or false, got ${String(o.sameClient)}.`);
  }
  return {
    maxAgeMs: checked,
    methods: checkMethods(o.methods, available),
    sameClient: o.sameClient === true,
    risk: optionalFunction<RiskCheck>(o.risk, 'requireMfa risk', '(req, verification) => false'),
    onRequired: parseOnRequired(o.onRequired, 'requireMfa onRequired'),
  };
}

/** `createMfa({ pages })`: paths on this site, checked with the rules `returnTo` follows. */
export function parsePages(value: unknown): Required<PagesOptions> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail("`pages` must be an object, like { verify: '/verify', enrol: '/account/security' }.");
  }
  checkKeys(value, ['verify', 'enrol'], 'pages.');
  const { verify, enrol } = value as Record<string, unknown>;
  const path = (page: unknown, name: string) => {
    if (typeof page !== 'string' || safeReturnTo(page) !== page || page.includes('#')) {
      fail(`\`pages.${name}\` must be a path on this site, like '/verify', got ${String(page)}.`);
    }
    return page;
  };
  const verifyPage = path(verify, 'verify');
  return { verify: verifyPage, enrol: enrol === undefined ? verifyPage : path(enrol, 'enrol') };
}
