import { userTag } from '../../keys.js';

/**
 * Store keys of the passkey factor. A user's keys carry the user's hash tag, so the challenge marker
 * and the failure counter can be used in one atomic `attempt` (one Redis Cluster slot). Keys looked up
 * before any user is known (credential owner, sign-in challenge, per-client failures) carry their own
 * tag. Credential ids and challenges are validated base64url, so they can sit inside a tag.
 */
export const webauthnKeys = {
  /** JSON list of the user's credential ids, in registration order: the one index of their passkeys. */
  ids: (userId: string) => `${userTag(userId)}:webauthn:ids`,
  /** JSON `PasskeyRecord` of one credential. */
  credential: (userId: string, credentialId: string) => `${userTag(userId)}:webauthn:cred:${credentialId}`,
  /** The random user handle (`user.id` in WebAuthn) given to authenticators for this user. */
  userHandle: (userId: string) => `${userTag(userId)}:webauthn:user-handle`,
  /** One-time marker of a register/verify challenge; its value is the purpose. */
  challenge: (userId: string, challenge: string) => `${userTag(userId)}:webauthn:challenge:${challenge}`,
  /** Which user a credential belongs to: passwordless sign-in starts from the credential id. */
  owner: (credentialId: string) => `{c:${credentialId}}:webauthn:owner`,
  /** One-time marker of a passwordless sign-in challenge. */
  loginChallenge: (challenge: string) => `{wl:${challenge}}:webauthn:login-challenge`,
  /** Failed passwordless sign-ins of one client address. */
  loginFailures: (ip: string) =>
    `{ip:${Buffer.from(ip, 'utf8').toString('base64url')}}:failures:webauthn-login`,
};
