import type { MfaCore } from '../core.js';
import { MfaError } from '../errors.js';
import type { FactorName } from '../keys.js';
import type { MfaUser } from '../options.js';
import { phishingResistant } from './factor-strength.js';

/** Why a guard refuses a signed-in user with a session. */
export type StaleReason = 'none' | 'expired' | 'risk';

/**
 * The guard's refusal, saying what would pass: `factors` are the acceptable ones the user has (in the
 * router's order), `phishingResistant` those of them a phishing site cannot relay, `required` the
 * guard's `methods` when it has any. This is the slow path: it reads which factors the user has.
 */
export async function guardRefusal(
  core: MfaCore,
  user: MfaUser,
  methods: readonly FactorName[] | undefined,
  reason: StaleReason,
): Promise<MfaError> {
  const all = await core.factors(user.id, user);
  const factors = methods ? all.filter((f) => methods.includes(f)) : all;
  const required = methods ? { required: [...methods] } : {};
  if (factors.length === 0) {
    const message = methods
      ? `This needs ${methods.join(' or ')}: set one up first.`
      : 'Set up a second factor first.';
    return new MfaError('not_enrolled', message, { factors: [], phishingResistant: [], ...required });
  }
  const extra = { factors, phishingResistant: phishingResistant(factors), ...required };
  if (reason === 'expired') {
    return new MfaError('mfa_expired', 'Your last verification is too old. Verify again to continue.', extra);
  }
  if (reason === 'risk') return new MfaError('mfa_required', 'Verify again to continue.', extra);
  return new MfaError('mfa_required', 'Verify with a second factor to continue.', extra);
}
