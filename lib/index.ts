export { createMfa, type Mfa } from './create-mfa.js';
export { ERROR_STATUS, type ErrorCode, MfaError, MfaOptionsError } from './errors.js';
export type { MfaEvent } from './events.js';
export type { FactorName } from './keys.js';
export type { AttemptLimitOptions, MfaOptions, MfaUser, TotpOptions } from './options.js';
export type { MfaSessionState } from './session.js';
export { MemoryStore } from './stores/memory-store.js';
export { RedisStore } from './stores/redis-store.js';
export {
  type AttemptAction,
  type AttemptInput,
  type AttemptResult,
  type FailureState,
  type Store,
  StoreUnavailableError,
} from './stores/store.js';
export { DAY, HOUR, MINUTE, SECOND } from './time.js';
