import type { VerificationOutcome } from '../core.js';

/**
 * What a confirm route adds to its answer: only that the confirmation completed a sign-in (a
 * setup-only session), since confirming is not a verification the client asked for.
 */
export function signedIn(outcome: VerificationOutcome): { signedIn?: true } {
  return outcome.signedIn ? { signedIn: true } : {};
}
