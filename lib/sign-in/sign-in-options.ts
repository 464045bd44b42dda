import { duration, fail, optionalObject } from '../option-validators.js';
import { MINUTE } from '../time.js';

/**
 * Whether users without a factor may sign in with a password alone:
 * - `'optional'` (default): yes.
 * - `'required'`: no; `mfa.signIn` answers `enrol_required` and leaves a setup-only session in which
 *   confirming a first factor completes the sign-in.
 * - `{ requiredFrom, graceSignIns }`: yes until `requiredFrom` (ms since the epoch, injected clock),
 *   with `enrolBy` in the answer; after it, `graceSignIns` more sign-ins (default 0, counted in the
 *   store), then required.
 */
export type EnrolmentPolicy = 'optional' | 'required' | { requiredFrom: number; graceSignIns?: number };

export interface SignInOptions {
  /** How long a sign-in waits for its second factor (or a setup-only session for its first) (ms). Default 5 minutes. */
  pendingTtlMs?: number;
  /**
   * Whether an emailed code may be the second factor at sign-in. Default false: the mailbox is
   * usually what a password reset already trusts, so email and password are not two factors.
   */
  emailCodes?: boolean;
  /** Whether users without a factor must set one up to sign in. Default `'optional'`. */
  enrolment?: EnrolmentPolicy;
}

export interface SignInConfig {
  pendingTtlMs: number;
  emailCodes: boolean;
  enrolment:
    | { kind: 'optional' }
    | { kind: 'required' }
    | { kind: 'from'; requiredFrom: number; graceSignIns: number };
}

const KEYS = ['pendingTtlMs', 'emailCodes', 'enrolment'];

function parseEnrolment(value: unknown): SignInConfig['enrolment'] {
  if (value === undefined || value === 'optional') return { kind: 'optional' };
  if (value === 'required') return { kind: 'required' };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const policy = optionalObject(value, 'signIn.enrolment', ['requiredFrom', 'graceSignIns']);
    const from = policy.requiredFrom instanceof Date ? policy.requiredFrom.getTime() : policy.requiredFrom;
    if (typeof from !== 'number' || !Number.isInteger(from) || from < 0) {
      fail(
        "`signIn.enrolment.requiredFrom` must be a date in ms since the epoch, like Date.parse('2027-03-01'), or a Date.",
      );
    }
    const grace = policy.graceSignIns ?? 0;
    if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > 1000) {
      fail(`\`signIn.enrolment.graceSignIns\` must be a whole number from 0 to 1000, got ${String(grace)}.`);
    }
    return { kind: 'from', requiredFrom: from, graceSignIns: grace };
  }
  fail(
    "`signIn.enrolment` must be 'optional', 'required' or { requiredFrom, graceSignIns }, got " +
      `${JSON.stringify(value)}.`,
  );
}

export function parseSignInOptions(value: unknown): SignInConfig {
  const o = optionalObject(value, 'signIn', KEYS);
  if (o.emailCodes !== undefined && typeof o.emailCodes !== 'boolean') {
    fail('`signIn.emailCodes` must be true or false.');
  }
  return {
    pendingTtlMs: duration(o.pendingTtlMs, 'signIn.pendingTtlMs', 5 * MINUTE),
    emailCodes: o.emailCodes === true,
    enrolment: parseEnrolment(o.enrolment),
  };
}
