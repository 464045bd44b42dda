export type { AdminUser, MfaAdmin } from './admin.js';
export { createMfa, type Mfa } from './create-mfa.js';
export { DeliveryError, type DeliveryFailure } from './delivery/delivery-error.js';
export {
  type Outbox,
  type OutboxMessage,
  type OutboxOptions,
  outboxEmail,
  outboxSms,
} from './delivery/outbox.js';
export type { EmailMessage, EmailSender, SmsMessage, SmsSender } from './delivery/sender.js';
export { ERROR_STATUS, type ErrorCode, MfaError, MfaOptionsError } from './errors.js';
export type { MessagePurpose, MfaEvent } from './events.js';
export type { FactorDetails } from './factor-details.js';
export type { CodeOptions, MessageOptions, PhoneOptions } from './factors/email-sms/delivery-options.js';
export type {
  CodeMessageValues,
  EmailTemplate,
  MessageTemplates,
  NoticeValues,
} from './factors/email-sms/messages.js';
export type {
  EndSessions,
  FindUserByEmail,
  RecoveryOptions,
} from './factors/recovery/recovery-options.js';
export type { PasskeySummary } from './factors/webauthn/passkey-records.js';
export type { WebAuthnOptions } from './factors/webauthn/webauthn-options.js';
export type {
  GuardOptions,
  GuardVerification,
  OnRequired,
  PagesOptions,
  RiskCheck,
} from './guard/guard-options.js';
export { safeReturnTo } from './guard/return-to.js';
export type { FactorName } from './keys.js';
export type { AppUser, AttemptLimitOptions, MfaLogger, MfaOptions, MfaUser, TotpOptions } from './options.js';
export type { MfaLocals } from './require-mfa.js';
export type { MfaSessionState, PendingChallenge, SignInStage } from './session.js';
export type { SessionWrapperOptions } from './session-middleware.js';
export type { SignInResult } from './sign-in/sign-in.js';
export type { EnrolmentPolicy, SignInOptions } from './sign-in/sign-in-options.js';
export { MemoryStore } from './stores/memory-store.js';
export { RedisStore } from './stores/redis-store.js';
export {
  type AttemptAction,
  type AttemptInput,
  type AttemptResult,
  type FailureState,
  type Store,
  type StoreLogger,
  StoreMisconfiguredError,
  StoreUnavailableError,
} from './stores/store.js';
export { DAY, HOUR, MINUTE, SECOND } from './time.js';
export type { TrustedDeviceOptions } from './trusted-devices/trusted-device-options.js';
export type { TrustedDevice } from './trusted-devices/trusted-devices.js';
