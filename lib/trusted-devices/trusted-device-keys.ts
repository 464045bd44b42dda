import { userTag } from '../keys.js';

export const trustedDeviceKeys = {
  /** The ids of the user's remembered devices (a set; ids of expired devices linger until listed). */
  ids: (userId: string) => `${userTag(userId)}:devices`,
  /** One device's record (JSON, with a TTL of its remaining life). */
  device: (userId: string, id: string) => `${userTag(userId)}:device:${id}`,
  /** A live token's keyed hash -> the device id; taken (single use) when the token is used. */
  token: (userId: string, hash: string) => `${userTag(userId)}:device-token:${hash}`,
  /**
   * The user's device generation: every record carries the one it was made in, and revoking all
   * devices moves it on, so no record missed by the index (a lost race) can outlive a revocation.
   */
  generation: (userId: string) => `${userTag(userId)}:devices:generation`,
};
