import { userTag } from '../../keys.js';

export type Channel = 'email' | 'sms';
/** What a code is for: a sign-in (step-up) code, or the code that confirms a new phone number. */
export type CodePurpose = 'sign_in' | 'confirm_phone';

/** Store keys of email and SMS codes. Per-user keys share the user's hash tag (see keys.ts). */
export const codeKeys = {
  /** The live code, as `<expiresAt>.<keyed hash>`. */
  code: (userId: string, channel: Channel, purpose: CodePurpose) =>
    `${userTag(userId)}:code:${channel}:${purpose}`,
  /** Wrong tries of the live code. */
  tries: (userId: string, channel: Channel, purpose: CodePurpose) =>
    `${userTag(userId)}:code:${channel}:${purpose}:tries`,
  cooldown: (userId: string, channel: Channel) => `${userTag(userId)}:code:${channel}:cooldown`,
  sends: (userId: string, channel: Channel) => `${userTag(userId)}:code:${channel}:sends`,
  /**
   * Sends to one address or number, whoever asks, per purpose: anyone may type a victim's number
   * into /sms/setup, and those confirmation texts must not use up the owner's sign-in sends.
   * Tagged by the destination's keyed hash, not by a user: the address never appears in a key, and
   * this single-key counter may live on any slot.
   */
  destinationSends: (destinationHash: string, channel: Channel, purpose: CodePurpose) =>
    `{d:${destinationHash}}:code:${channel}:${purpose}:sends`,
  /** The bound phone number (encrypted). */
  phone: (userId: string) => `${userTag(userId)}:sms`,
  /** A number waiting for its confirmation code (encrypted). */
  pendingPhone: (userId: string) => `${userTag(userId)}:sms:pending`,
};

/** Every code key of one user and channel, for removing the factor. */
export const allCodeKeys = (userId: string, channel: Channel) =>
  (['sign_in', 'confirm_phone'] as const).flatMap((purpose) => [
    codeKeys.code(userId, channel, purpose),
    codeKeys.tries(userId, channel, purpose),
  ]);

/** Every SMS record of one user (send counters excepted: removing a number must not reset them). */
export const smsRecordKeys = (userId: string) => [
  codeKeys.phone(userId),
  codeKeys.pendingPhone(userId),
  ...allCodeKeys(userId, 'sms'),
];
