import { brandedInstanceof } from './branded-instanceof.js';

/** The one map of error codes the HTTP contract uses, with their status. */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthenticated: 401,
  invalid_code: 401,
  mfa_required: 401,
  mfa_expired: 401,
  not_enrolled: 403,
  recovery_only: 403,
  mfa_pending: 403,
  enrolment_required: 403,
  not_found: 404,
  already_enrolled: 409,
  last_factor: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_attempts: 429,
  internal: 500,
  delivery_failed: 502,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * An error the router answers as `status` + `{ error: code, message, ...extra }`.
 * Callers match on `code`, never on the message text.
 */
export class MfaError extends Error {
  override name = 'MfaError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

brandedInstanceof(MfaError, 'MfaError');

/** Thrown by `createMfa` for bad options; `code` is stable, the message says how to fix it. */
export class MfaOptionsError extends Error {
  override name = 'MfaOptionsError';
  readonly code = 'invalid_options';
}

brandedInstanceof(MfaOptionsError, 'MfaOptionsError');
