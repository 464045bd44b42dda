import type { Request } from 'express';
import type { MfaCore } from './core.js';
import { type FactorDetails, factorDetails } from './factor-details.js';
import type { FactorName } from './keys.js';
import type { AppUser, MfaUser } from './options.js';
import { normalizeUser, userIdOf } from './user-id.js';

/** A user id, or the app's user object (`{ id, email }`): with the object, email is listed and notified. */
export type AdminUser = string | number | AppUser;

/** `mfa.admin`: for the app's own tools (support desk, admin pages, scripts), never for end users. */
export interface MfaAdmin {
  /** The user's factors with their details and locks (email too when given the user object). */
  factors(user: AdminUser): Promise<FactorDetails[]>;
  /**
   * Removes one factor (all passkeys for 'webauthn'); the backup codes go too when it was the last.
   * True when the user had it. Email, the implicit factor, is the app's address: change that instead.
   */
  removeFactor(user: AdminUser, factor: FactorName): Promise<boolean>;
  /** Removes every factor and backup code and clears the locks; returns the factors the user had. */
  resetUser(user: AdminUser): Promise<FactorName[]>;
  /** Clears the failure counters (and so the lock) of one factor, or of every factor. */
  unlock(user: AdminUser, factor?: FactorName): Promise<void>;
}

/**
 * What events and notices see of an admin call: there is no HTTP request, so no client address (events
 * have `ip: undefined`) and no Accept-Language (notices use the user's `locale`, then English).
 */
const NO_REQUEST = { ip: undefined, headers: {} } as unknown as Request;

export function createAdmin(core: MfaCore): MfaAdmin {
  const names = core.definitions.map((d) => d.name);

  function who(user: AdminUser): { userId: string; user: MfaUser | undefined } {
    const id = typeof user === 'object' ? undefined : userIdOf(user);
    if (id !== undefined) return { userId: id, user: undefined };
    const normalized = typeof user === 'object' && user !== null ? normalizeUser(user) : undefined;
    if (normalized) return { userId: normalized.id, user: normalized };
    throw new TypeError(
      'express-mfa admin: pass a user id (a non-empty string or a whole number) or the user object { id, email? }',
    );
  }

  function factorName(factor: unknown): FactorName {
    if (typeof factor !== 'string' || !names.includes(factor as FactorName)) {
      throw new TypeError(
        `express-mfa admin: the factor must be one of ${names.join(', ')}, got ${String(factor)}`,
      );
    }
    return factor as FactorName;
  }

  return {
    async factors(user) {
      const w = who(user);
      return factorDetails(core, w.userId, w.user);
    },

    async removeFactor(user, factor) {
      const w = who(user);
      const name = factorName(factor);
      if (name === 'email') {
        throw new TypeError(
          "express-mfa admin: 'email' is the implicit factor of every user with an address: change or remove the address in your app",
        );
      }
      const definition = core.definitions.find((d) => d.name === name)!;
      const had = await definition.has(core, w.userId, w.user);
      // Removed even when it does not count now (passkeys while WebAuthn is off): nothing stays behind.
      await definition.remove(core, w.userId);
      await core.afterFactorRemoved(w.userId, w.user);
      if (had) {
        await core.factorsChanged(
          NO_REQUEST,
          w.userId,
          { type: 'factor_removed', factor: name, by: 'admin' },
          w.user ?? null,
        );
      }
      return had;
    },

    async resetUser(user) {
      const w = who(user);
      const removed = await core.removeAllFactors(w.userId, w.user);
      await core.factorsChanged(
        NO_REQUEST,
        w.userId,
        { type: 'factors_reset', removed, by: 'admin' },
        w.user ?? null,
      );
      return removed;
    },

    async unlock(user, factor) {
      const w = who(user);
      const cleared = factor === undefined ? names : [factorName(factor)];
      await core.unlock(w.userId, cleared);
      core.emit(NO_REQUEST, w.userId, { type: 'unlocked', factors: [...cleared], by: 'admin' }, null);
    },
  };
}
