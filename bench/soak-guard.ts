import { type BenchUser, enrolUser, reverify } from './users.js';

/**
 * Verified sessions for `GET /guard` (requireMfa(5 min)) over a run longer than 5 minutes. Verifying
 * a session again regenerates it, which would turn requests in flight on the old cookie into 401s;
 * so the load uses one user's session while the next one is verified on the side, then switches.
 * Each switch takes the next user (enrol more than a run switches: a user's next step is accepted
 * once), and a session is in use for less than the 5 minutes it stays verified.
 */
export class GuardSessions {
  private current = 0;

  private constructor(
    private readonly base: string,
    private readonly users: BenchUser[],
  ) {}

  /** Enrols `count` guard users on the server at `base` (enrolment verifies their sessions). */
  static async enrol(base: string, count: number): Promise<GuardSessions> {
    const users: BenchUser[] = [];
    for (let i = 0; i < count; i++) users.push(await enrolUser(base, `guard-${i}`));
    return new GuardSessions(base, users);
  }

  /** The cookie the load sends to /guard now. */
  cookie(): string {
    return this.users[this.current]!.cookie;
  }

  /** Verifies the next user's session again and moves the load over to it. */
  async switch(): Promise<void> {
    const next = (this.current + 1) % this.users.length;
    await reverify(this.base, this.users[next]!);
    this.current = next;
  }
}
