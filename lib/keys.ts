/**
 * Store keys. Every key of one user shares the hash tag `{u:<id>}` so multi-key operations stay on
 * one Redis Cluster slot; the id is base64url-encoded so any id (colons, braces, unicode) is safe.
 */
export type FactorName = 'totp' | 'webauthn' | 'sms' | 'email' | 'backup_codes';

/** The hash tag every key of one user starts with; factor folders build their keys on it. */
export const userTag = (userId: string) => `{u:${Buffer.from(userId, 'utf8').toString('base64url')}}`;
const tag = userTag;

export const keys = {
  totp: (userId: string) => `${tag(userId)}:totp`,
  totpPending: (userId: string) => `${tag(userId)}:totp:pending`,
  totpLastStep: (userId: string) => `${tag(userId)}:totp:last-step`,
  backupCodes: (userId: string) => `${tag(userId)}:backup-codes`,
  failures: (userId: string, factor: FactorName) => `${tag(userId)}:failures:${factor}`,
};
