import type { Request } from 'express';
import type { FactorName } from './keys.js';
import type { MfaUser } from './options.js';

interface EventBase {
  userId: string;
  /** When it happened (injected clock, ms). */
  at: number;
  /** The client's address as Express sees it (`req.ip`; set 'trust proxy' behind a proxy). */
  ip: string | undefined;
}

/** Events about no single factor (recovery, resets) have no `factor`; typed so `event.factor` still reads. */
type NoFactor = { factor?: undefined };

/** Audit events. They never carry a secret or a code. */
export type MfaEvent = EventBase &
  (
    | {
        type: 'enrolled';
        factor: FactorName;
        /** For SMS: the number, masked. */
        to?: string;
      }
    /** `passwordless`: a passkey sign-in without a password (`/webauthn/login/verify`). */
    | { type: 'verified'; factor: FactorName; passwordless?: true }
    /** For a passwordless sign-in, `failures` counts the client's failures, not the user's. */
    | { type: 'failed'; factor: FactorName; failures: number; passwordless?: true }
    | { type: 'locked'; factor: FactorName; until: number }
    | { type: 'backup_code_used'; factor: 'backup_codes'; remaining: number }
    | { type: 'backup_codes_regenerated'; factor: 'backup_codes' }
    /** `by: 'admin'`: removed through `mfa.admin`, not by the user. `to`: for SMS, the number, masked. */
    | { type: 'factor_removed'; factor: FactorName; to?: string; by?: 'admin' }
    /** `mfa.admin.resetUser`: every factor removed (`removed` lists those the user had). */
    | ({ type: 'factors_reset'; removed: FactorName[]; by: 'admin' } & NoFactor)
    /** `mfa.admin.unlock`: the failure counters of `factors` were cleared. */
    | ({ type: 'unlocked'; factors: FactorName[]; by: 'admin' } & NoFactor)
    /**
     * `/recovery/start` for an existing account (unknown addresses have no user to report to).
     * `outcome`: the code was `sent`; or not, because of the per-account `rate_limited` cap, a `locked`
     * address, an account with `no_email` usable, or a `failed` send (see `delivery_failed`).
     */
    | ({
        type: 'recovery_requested';
        outcome: 'sent' | 'rate_limited' | 'locked' | 'no_email' | 'failed';
      } & NoFactor)
    /** A wrong recovery code for an address with a live code; `failures` counts the address's failures. */
    | ({ type: 'recovery_failed'; failures: number } & NoFactor)
    /** The address reached the limit: recovery for it is locked until `until`. */
    | ({ type: 'recovery_locked'; until: number } & NoFactor)
    /** Recovery succeeded: `removed` lists the factors the user had; the session may now enrol new ones. */
    | ({ type: 'recovery_completed'; removed: FactorName[] } & NoFactor)
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
    /**
     * A passwordless sign-in with a passkey that was registered in a recovery session and has not yet
     * been used as a second factor after a password sign-in: refused (and counted like any failure).
     */
    | {
        type: 'passwordless_refused';
        factor: 'webauthn';
        credentialId: string;
        reason: 'registered_in_recovery';
      }
    /**
     * `mfa.signIn` for a password-checked user: `signed_in` (no second factor needed: none enrolled
     * and the policy allows it, or a `trustedDevice`; `enrolBy` / `graceSignInsLeft` while a
     * required enrolment is being phased in), `mfa_required` (the session waits for a second factor),
     * or `enrol_required` (a setup-only session).
     */
    | ({
        type: 'sign_in';
        outcome: 'signed_in' | 'mfa_required' | 'enrol_required';
        trustedDevice?: true;
        enrolBy?: number;
        graceSignInsLeft?: number;
      } & NoFactor)
    /** An unfinished sign-in was completed by `factor` (`enrolled`: by setting up a first factor). */
    | { type: 'sign_in_completed'; factor: FactorName; enrolled?: true }
    /** "Remember this device": a device now skips the second factor at sign-in. */
    | ({ type: 'trusted_device_added'; deviceId: string; name: string } & NoFactor)
    /** Devices no longer trusted: revoked by the user, or all of them because the factors changed. */
    | ({ type: 'trusted_device_revoked'; deviceIds: string[]; reason: 'user' | 'factors_changed' } & NoFactor)
    /**
     * A guard's `risk` check demanded a new verification of a session that would otherwise pass;
     * `factor` made the verification it refused, `path` is the guarded route (no query).
     */
    | { type: 'step_up_risk'; factor?: FactorName; verifiedAt: number; path: string }
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

/**
 * Why an email or SMS was sent: a code to sign in, a code to confirm a phone, a security notice, or
 * an account recovery code.
 */
export type MessagePurpose = 'sign_in' | 'confirm_phone' | 'security_notice' | 'recovery';

type Distribute<T> = T extends unknown ? Omit<T, keyof EventBase> : never;
export type MfaEventInput = Distribute<MfaEvent>;

/**
 * Reports an event. `user` names whom a security notice goes to when the request's own user is not
 * them (recovery, admin tools; `null`: nobody); by default it is `getUser(req)` when that is `userId`.
 */
export type Emit = (req: Request, userId: string, event: MfaEventInput, user?: MfaUser | null) => void;

/** Builds the emitter: a listener's failure (sync or async) must never break an authentication flow. */
export function createEmitter(
  onEvent: ((event: MfaEvent) => void | Promise<void>) | undefined,
  now: () => number,
): (req: Request, userId: string, event: MfaEventInput) => void {
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
