import { totpCode } from './totp-code.js';
import { type BenchUser, TotpRotation } from './users.js';

/**
 * TOTP verification for users who already redeemed this time step (just enrolled, say): they send the
 * next step's code, which the server's ±1 window accepts now. For short runs right after enrolment
 * (`bench:scale --smoke`), so no run waits up to 30 s for the next step.
 */
export class LookaheadTotpRotation extends TotpRotation {
  /** The step `user` redeems now: this one, or the next if this one is used. */
  private stepFor(user: BenchUser, step: number) {
    return Math.max(step, user.lastStep + 1);
  }
  protected override usable(user: BenchUser, step: number) {
    return this.stepFor(user, step) <= step + 1;
  }
  protected override body(user: BenchUser, step: number) {
    return JSON.stringify({ code: totpCode(user.key, this.stepFor(user, step)) });
  }
  protected override consume(user: BenchUser, step: number) {
    user.lastStep = this.stepFor(user, step);
  }
}
