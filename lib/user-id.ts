import type { AppUser, MfaUser } from './options.js';

/**
 * A user id as express-mfa keeps it: a non-empty string. Numbers (SQL ids through Passport, `42`)
 * are accepted and turned into their decimal string, so `42` and `'42'` are one user; anything else
 * (NaN, fractions, objects) is undefined.
 */
export function userIdOf(id: unknown): string | undefined {
  if (typeof id === 'string') return id === '' ? undefined : id;
  if (typeof id === 'number') return Number.isSafeInteger(id) ? String(id) : undefined;
  if (typeof id === 'bigint') return String(id);
  return undefined;
}

/** The app's user with its id as a string, or undefined when `user` has no usable id. */
export function normalizeUser(user: AppUser | MfaUser | object): MfaUser | undefined {
  const id = userIdOf((user as { id?: unknown }).id);
  if (id === undefined) return undefined;
  const { id: given } = user as { id: unknown };
  return given === id ? (user as MfaUser) : ({ ...user, id } as MfaUser);
}
