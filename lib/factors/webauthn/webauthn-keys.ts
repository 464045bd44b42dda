import { userTag } from '../../keys.js';

/**
 * Store keys of the passkey factor. A user's keys carry the user's hash tag, so the challenge marker
 * and the failure counter can be used in one atomic `attempt` (one Redis Cluster slot). Keys looked up
 * before any user is known (credential owner, sign-in challenge, per-client failures) carry their own
 * tag. Credential ids are validated base64url and session ids are hashed to base64url, so they can sit
 * inside a tag.
 */
export const webauthnKeys = {
  /**
   * Set of the user's credential ids: the one index of their passkeys. A set, so parallel additions
   * and removals are single commands that cannot undo one another.
   */
  ids: (userId: string) => `${userTag(userId)}:webauthn:passkeys`,
  /** JSON `PasskeyRecord` of one credential, as registered (and renamed); uses never rewrite it. */
  credential: (userId: string, credentialId: string) => `${userTag(userId)}:webauthn:cred:${credentialId}`,
  /** The signature counter last accepted for a credential: moved only by an atomic `advance`. */
  counter: (userId: string, credentialId: string) => `${userTag(userId)}:webauthn:counter:${credentialId}`,
  /** JSON `{ at, backedUp }` of a credential's last use, apart from its record (see `credential`). */
  lastUse: (userId: string, credentialId: string) => `${userTag(userId)}:webauthn:used:${credentialId}`,
  /** Present while a passkey registered in a recovery session has not been used as a second factor. */
  unconfirmed: (userId: string, credentialId: string) =>
    `${userTag(userId)}:webauthn:unconfirmed:${credentialId}`,
  /**
   * Failure counter of the bookkeeping `attempt`s (counter advance, index removal): the contract's
   * compare-and-set actions run inside `attempt`, and these must neither touch nor obey a user's limit.
   * Nothing reads it.
   */
  bookkeeping: (userId: string) => `${userTag(userId)}:webauthn:bookkeeping`,
  /** The random user handle (`user.id` in WebAuthn) given to authenticators for this user. */
  userHandle: (userId: string) => `${userTag(userId)}:webauthn:user-handle`,
  /** One-time marker of a register/verify challenge; its value is the purpose. */
  challenge: (userId: string, challenge: string) => `${userTag(userId)}:webauthn:challenge:${challenge}`,
  /** Which user a credential belongs to: passwordless sign-in starts from the credential id. */
  owner: (credentialId: string) => `{c:${credentialId}}:webauthn:owner`,
  /**
   * One-time marker of a session's passwordless sign-in challenge (its value is the challenge). One
   * key per session, by a hash of the session id (no bearer secret in key names), so repeated calls
   * from one session replace the marker instead of adding more.
   */
  loginChallenge: (sessionHash: string) => `{wl:${sessionHash}}:webauthn:login-challenge`,
  /** Failed passwordless sign-ins of one client address. */
  loginFailures: (ip: string) =>
    `{ip:${Buffer.from(ip, 'utf8').toString('base64url')}}:failures:webauthn-login`,
  /** `/login/options` calls of one client address: each may create a session, so they are capped. */
  loginOptions: (ip: string) =>
    `{ip:${Buffer.from(ip, 'utf8').toString('base64url')}}:requests:webauthn-login-options`,
};
