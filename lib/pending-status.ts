import type { Request } from 'express';
import type { Actor, MfaCore } from './core.js';
import { type PendingCode, type PendingPhone, pendingCodes } from './factors/email-sms/pending-codes.js';
import { pendingTotpSetup } from './factors/totp/pending-setup.js';

/** The status's `pending`: what this session started and can still finish (see README, Status). */
export interface PendingStatus {
  totpSetup: { expiresAt: number } | null;
  phoneSetup: PendingPhone | null;
  emailCode: PendingCode | null;
  smsCode: PendingCode | null;
}

/**
 * Shows each kind only to a session its routes serve: a sign-in waiting for its second factor sees
 * the codes that can complete it, never a setup; a recovery session only setups; a sign-in that must
 * set up a first factor, setups and email codes (its fresh MFA). All reads go out in one batch.
 */
export async function pendingStatus(core: MfaCore, req: Request, who: Actor): Promise<PendingStatus> {
  const setups = who.stage !== 'pending';
  const [totpSetup, codes] = await Promise.all([
    setups ? pendingTotpSetup(core, req, who.userId) : null,
    pendingCodes(core, req, who, {
      phoneSetup: setups,
      emailCode: !who.recovery && (who.stage !== 'pending' || core.config.signIn.emailCodes),
      smsCode: !who.recovery && who.stage !== 'enrol',
    }),
  ]);
  return { totpSetup, ...codes };
}
