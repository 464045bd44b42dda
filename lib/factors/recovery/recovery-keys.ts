import { userTag } from '../../keys.js';

/**
 * Store keys of account recovery. What `/recovery/complete` touches is looked up by the address
 * typed, before any user is known: those keys are tagged by the address's keyed hash (`{e:...}`),
 * so the code and its failure counter share a Redis Cluster slot for the one atomic `attempt`, and
 * the address itself never appears in a key.
 */
export const recoveryKeys = {
  /** The live code for an address: `<expiresAt>.<user id, base64url>.<keyed hash>`. One per address. */
  code: (emailTag: string) => `{e:${emailTag}}:recovery:code`,
  /** Failed `/recovery/complete` attempts for an address, known or not. */
  failures: (emailTag: string) => `{e:${emailTag}}:recovery:failures`,
  /** Recovery emails sent for one account. */
  accountRequests: (userId: string) => `${userTag(userId)}:recovery:requests`,
  /** `/recovery/start` requests from one client address. */
  clientRequests: (ip: string) => `{ip:${Buffer.from(ip, 'utf8').toString('base64url')}}:recovery:requests`,
};
