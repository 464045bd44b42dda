import type { MfaCore } from '../core.js';
import { userTag } from '../keys.js';
import { DAY } from '../time.js';

/** Whether a user without a factor must enrol now, and what to tell them while they need not yet. */
export interface EnrolmentDecision {
  required: boolean;
  /** The date from which enrolment is required (policy `{ requiredFrom }`). */
  enrolBy?: number;
  /** Sign-ins left without a factor once that date has passed. */
  graceSignInsLeft?: number;
}

/** Long enough to outlast any phase-in; the counter only needs to forget users who never come back. */
const GRACE_COUNTER_MS = 3650 * DAY;

/**
 * Applies `signIn.enrolment` with the injected clock. Grace sign-ins are counted atomically in the
 * store (parallel sign-ins cannot share one), with the attempt counter as a plain counter.
 */
export async function enrolmentDecision(
  core: MfaCore,
  userId: string,
  now: number,
): Promise<EnrolmentDecision> {
  const policy = core.config.signIn.enrolment;
  if (policy.kind === 'optional') return { required: false };
  if (policy.kind === 'required') return { required: true };
  if (now < policy.requiredFrom) return { required: false, enrolBy: policy.requiredFrom };
  if (policy.graceSignIns === 0) return { required: true };
  const result = await core.store.attempt({
    failKey: `${userTag(userId)}:sign-in:grace`,
    limit: policy.graceSignIns,
    windowMs: GRACE_COUNTER_MS,
    lockMs: GRACE_COUNTER_MS,
    now,
    // Each grace sign-in counts as a "failure" of the counter; once all are used, it stays locked.
    action: { kind: 'check', ok: false },
  });
  if (result.status === 'locked') return { required: true };
  return {
    required: false,
    enrolBy: policy.requiredFrom,
    graceSignInsLeft: Math.max(0, policy.graceSignIns - (result.status === 'invalid' ? result.failures : 0)),
  };
}
