import type { Request } from 'express';
import type { Actor, MfaCore } from '../../core.js';
import { maskEmail, maskPhone } from '../../delivery/mask.js';
import { keys } from '../../keys.js';
import { type Channel, type CodePurpose, codeKeys } from './code-keys.js';
import { type CodeTarget, codeRecords, expiresAtOf } from './code-record.js';
import { emailAddressOf } from './email-address.js';
import { readPhoneRecord } from './phone-record.js';

/** A code this session asked for and has not used: where it went (masked) and until when. */
export interface PendingCode {
  sentTo: string;
  expiresAt: number;
  /** Seconds until another code may be sent on the channel (0: now), as a send's answer says it. */
  resendAfter: number;
}

/** A number waiting for its confirmation code, sent by this session. */
export interface PendingPhone {
  phone: string;
  expiresAt: number;
  resendAfter: number;
}

/** Which of them the session may see: what the routes that use them would let it use. */
export interface PendingCodesScope {
  emailCode: boolean;
  smsCode: boolean;
  phoneSetup: boolean;
}

const none = Promise.resolve(null);

/**
 * The email and SMS codes this session asked for and can still redeem, read in one batch: the code
 * records (whose session tags say whose they are), the numbers they went to, and what holds the next
 * send back (the cooldown, the hourly cap, a lock of the factor). Another session's code, or a code
 * for a number that is no longer the one on file, is not this session's to show.
 */
export async function pendingCodes(core: MfaCore, req: Request, who: Actor, scope: PendingCodesScope) {
  const { store, keyring, config } = core;
  const now = core.now();
  const records = codeRecords(keyring);
  const userId = who.userId;
  const address = emailAddressOf(who.user);
  const email = scope.emailCode && config.email !== undefined && address !== undefined;
  const sms = config.sms !== undefined;
  const get = (on: boolean, key: string) => (on ? store.get(key) : none);
  const code = (on: boolean, channel: Channel, purpose: CodePurpose) =>
    get(on, codeKeys.code(userId, channel, purpose));
  /** When the channel takes the next send: the latest end of its cooldown, hourly cap and lock. */
  const nextSend = async (on: boolean, channel: Channel) => {
    if (!on) return now;
    const counters = [
      codeKeys.cooldown(userId, channel),
      codeKeys.sends(userId, channel),
      keys.failures(userId, channel),
    ];
    const states = await Promise.all(counters.map((key) => store.failures(key, now)));
    return Math.max(now, ...states.map((s) => s.lockedUntil ?? now));
  };
  const smsCode = sms && scope.smsCode;
  const phoneSetup = sms && scope.phoneSetup;
  const [emailStored, emailNext, smsStored, boundRaw, confirmStored, pendingRaw, smsNext] = await Promise.all(
    [
      code(email, 'email', 'sign_in'),
      nextSend(email, 'email'),
      code(smsCode, 'sms', 'sign_in'),
      get(smsCode, codeKeys.phone(userId)),
      code(phoneSetup, 'sms', 'confirm_phone'),
      get(phoneSetup, codeKeys.pendingPhone(userId)),
      nextSend(smsCode || phoneSetup, 'sms'),
    ],
  );

  /** The code, if it is live by the injected clock and this session's for `destination`. */
  const live = (
    stored: string | null,
    t: Omit<CodeTarget, 'destination'>,
    destination: string | undefined,
  ) => {
    if (stored === null || destination === undefined) return undefined;
    const expiresAt = expiresAtOf(stored);
    if (!(now < expiresAt) || !records.heldBy(stored, { ...t, destination }, req.sessionID)) return undefined;
    return expiresAt;
  };
  const wait = (next: number) => Math.ceil((next - now) / 1000);

  const emailExpires = live(
    emailStored,
    { userId, channel: 'email', purpose: 'sign_in' },
    address?.toLowerCase(),
  );
  const bound = readPhoneRecord(keyring, boundRaw, 'bound', userId, now);
  const smsExpires = live(smsStored, { userId, channel: 'sms', purpose: 'sign_in' }, bound?.phone);
  const pending = readPhoneRecord(keyring, pendingRaw, 'pending', userId, now);
  const confirmExpires = live(
    confirmStored,
    { userId, channel: 'sms', purpose: 'confirm_phone' },
    pending?.phone,
  );
  return {
    phoneSetup:
      confirmExpires !== undefined && pending
        ? { phone: maskPhone(pending.phone), expiresAt: confirmExpires, resendAfter: wait(smsNext) }
        : null,
    emailCode:
      emailExpires !== undefined && address
        ? { sentTo: maskEmail(address), expiresAt: emailExpires, resendAfter: wait(emailNext) }
        : null,
    smsCode:
      smsExpires !== undefined && bound
        ? { sentTo: maskPhone(bound.phone), expiresAt: smsExpires, resendAfter: wait(smsNext) }
        : null,
  } satisfies Record<string, PendingCode | PendingPhone | null>;
}
