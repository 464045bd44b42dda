import { duration, fail, integer, optionalObject } from '../option-validators.js';
import { DAY } from '../time.js';

export interface TrustedDeviceOptions {
  /** How long a remembered device skips the second factor at sign-in, from when it was remembered (ms). Default 30 days. */
  ttlMs?: number;
  /** Devices remembered per user; remembering one more forgets the oldest. Default 10. */
  maxPerUser?: number;
  /** The cookie that holds the device's token. Default `'mfa_device'`. */
  cookieName?: string;
}

export type TrustedDeviceConfig = Required<TrustedDeviceOptions>;

const KEYS = ['ttlMs', 'maxPerUser', 'cookieName'];

/** Off (undefined) unless the option is given; `true` or `{}` turn it on with the defaults. */
export function parseTrustedDeviceOptions(value: unknown): TrustedDeviceConfig | undefined {
  if (value === undefined || value === false) return undefined;
  const o = optionalObject(value === true ? {} : value, 'trustedDevices', KEYS);
  const cookieName = o.cookieName ?? 'mfa_device';
  // A cookie name is an RFC 6265 token: no separators, spaces or control characters.
  if (typeof cookieName !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/.test(cookieName)) {
    fail("`trustedDevices.cookieName` must be a cookie name like 'mfa_device' (letters, digits, - and _).");
  }
  return {
    ttlMs: duration(o.ttlMs, 'trustedDevices.ttlMs', 30 * DAY),
    maxPerUser: integer(o.maxPerUser, 'trustedDevices.maxPerUser', 10, 1, 100),
    cookieName,
  };
}
