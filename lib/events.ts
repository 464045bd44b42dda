import type { Request } from 'express';
import type { FactorName } from './keys.js';

interface EventBase {
  userId: string;
  /** When it happened (injected clock, ms). */
  at: number;
  /** The client's address as Express sees it (`req.ip`; set 'trust proxy' behind a proxy). */
  ip: string | undefined;
}

/** Audit events. They never carry a secret or a code. */
export type MfaEvent = EventBase &
  (
    | { type: 'enrolled'; factor: FactorName }
    /** `passwordless`: a passkey sign-in without a password (`/webauthn/login/verify`). */
    | { type: 'verified'; factor: FactorName; passwordless?: true }
    /** For a passwordless sign-in, `failures` counts the client's failures, not the user's. */
    | { type: 'failed'; factor: FactorName; failures: number; passwordless?: true }
    | { type: 'locked'; factor: FactorName; until: number }
    | { type: 'backup_code_used'; factor: 'backup_codes'; remaining: number }
    | { type: 'backup_codes_regenerated'; factor: 'backup_codes' }
    | { type: 'factor_removed'; factor: FactorName }
    /**
     * A passkey's signature counter did not increase (WebAuthn §6.1.1): the authenticator may have been
     * cloned. The assertion was refused.
     */
    | {
        type: 'counter_regression';
        factor: 'webauthn';
        credentialId: string;
        stored: number;
        received: number;
      }
    /** An email or SMS was handed to the provider. `to` is masked (`a***@acme.com`, `+*******2671`). */
    | { type: 'message_sent'; factor: 'email' | 'sms'; purpose: MessagePurpose; to: string }
    /**
     * The provider failed to take a message (the code, if any, was deleted). `reason` comes from a
     * sender's `DeliveryError` ('error' for any other failure); `status` is the provider's HTTP status.
     */
    | {
        type: 'delivery_failed';
        factor: 'email' | 'sms';
        purpose: MessagePurpose;
        to: string;
        reason: 'timeout' | 'rejected' | 'unreachable' | 'error';
        status?: number;
      }
  );

/** Why an email or SMS was sent: a code to sign in, a code to confirm a phone, or a security notice. */
export type MessagePurpose = 'sign_in' | 'confirm_phone' | 'security_notice';

type Distribute<T> = T extends unknown ? Omit<T, keyof EventBase> : never;
export type MfaEventInput = Distribute<MfaEvent>;

export type Emit = (req: Request, userId: string, event: MfaEventInput) => void;

/** Builds the emitter: a listener's failure (sync or async) must never break an authentication flow. */
export function createEmitter(
  onEvent: ((event: MfaEvent) => void | Promise<void>) | undefined,
  now: () => number,
): Emit {
  return (req, userId, event) => {
    if (!onEvent) return;
    try {
      const result = onEvent({ ...event, userId, at: now(), ip: req.ip } as MfaEvent);
      if (result && typeof result.then === 'function') result.then(undefined, () => {});
    } catch {
      // ignored on purpose, see above
    }
  };
}
