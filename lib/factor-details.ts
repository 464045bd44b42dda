import type { MfaCore } from './core.js';
import { maskEmail, maskPhone } from './delivery/mask.js';
import { codeKeys } from './factors/email-sms/code-keys.js';
import { phoneContext } from './factors/email-sms/phone-record.js';
import { type PasskeySummary, passkeyRecords, summarize } from './factors/webauthn/passkey-records.js';
import { type FactorName, keys } from './keys.js';
import type { MfaUser } from './options.js';

/** One factor of a user, as the app's own tools (support, admin pages) see it. Nothing secret. */
export interface FactorDetails {
  factor: FactorName;
  /** When it was set up (ms), when known: the oldest passkey for `webauthn`. */
  createdAt: number | null;
  /** Failed attempts in the current window. */
  failures: number;
  /** When the factor's lock ends (ms), or null when it is not locked. */
  lockedUntil: number | null;
  /** `webauthn`: the passkeys. */
  passkeys?: PasskeySummary[];
  /** `sms`: the bound number, masked (`+*******2671`). */
  phone?: string;
  /** `backup_codes`: how many are left. */
  remaining?: number;
  /** `email`: the address on file, masked (`a***@acme.com`). */
  email?: string;
}

function createdAtOf(raw: string | null): number | null {
  if (raw === null) return null;
  try {
    const value = (JSON.parse(raw) as { createdAt?: unknown }).createdAt;
    return typeof value === 'number' ? value : null;
  } catch {
    return null;
  }
}

/** What each factor the user has looks like; email only when `user` (with its address) is given. */
export async function factorDetails(core: MfaCore, userId: string, user?: MfaUser): Promise<FactorDetails[]> {
  const { store, keyring } = core;
  const names = await core.factors(userId, user);
  return Promise.all(
    names.map(async (factor): Promise<FactorDetails> => {
      const lock = await core.lockState(userId, factor);
      const base = { factor, createdAt: null, failures: lock.failures, lockedUntil: lock.lockedUntil };
      switch (factor) {
        case 'totp':
          return { ...base, createdAt: createdAtOf(await store.get(keys.totp(userId))) };
        case 'webauthn': {
          const passkeys = await passkeyRecords(store).list(userId);
          const oldest = passkeys.length > 0 ? Math.min(...passkeys.map((p) => p.createdAt)) : null;
          return { ...base, createdAt: oldest, passkeys: passkeys.map(summarize) };
        }
        case 'sms': {
          const raw = await store.get(codeKeys.phone(userId));
          const details: FactorDetails = { ...base, createdAt: createdAtOf(raw) };
          try {
            const record = JSON.parse(raw ?? '{}') as { phone?: string };
            if (record.phone) {
              details.phone = maskPhone(keyring.decrypt(record.phone, phoneContext('bound', userId)));
            }
          } catch {
            // Encrypted under a secret no longer configured: the factor is listed, its number is not.
          }
          return details;
        }
        case 'backup_codes':
          return { ...base, remaining: await store.countSet(keys.backupCodes(userId)) };
        case 'email': {
          const address = core.emailAddress(user);
          return address ? { ...base, email: maskEmail(address) } : base;
        }
      }
    }),
  );
}
