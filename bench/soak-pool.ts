import { stepAt, totpCode } from './totp-code.js';
import { type BenchUser, cookieFrom } from './users.js';

/**
 * Wrong codes a user may have received since its last success. The attempt limit locks a factor at
 * 5 failures in a row (a success deletes the counter, redis-scripts.ts's attemptScript), so 2 keeps
 * every user 3 failures clear of a lockout even if an answer went missing.
 */
export const MAX_WRONG_STREAK = 2;

/** A code of no time step the server accepts now (it takes ±1 step): a wrong code, never a lucky one. */
export function wrongCode(key: Buffer, step: number): string {
  const near = new Set([-2, -1, 0, 1, 2].map((d) => totpCode(key, step + d)));
  let n = Number(totpCode(key, step));
  for (;;) {
    n = (n + 1) % 1_000_000;
    const code = String(n).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

/** One verification handed to the load generator. */
export interface PoolPick {
  user: BenchUser;
  step: number;
  right: boolean;
  body: string;
}

/**
 * The TOTP users of the verify route, for right and wrong codes alike. A user is out of the queue
 * while its request is in flight (a verification regenerates its session, so no second request may
 * use the old cookie meanwhile) and comes back at the tail with the cookie the answer set. A right
 * code redeems the user's time step, so the head must not have used the current one (the queue is
 * in order of use: oldest step first). A wrong code takes the head too (it goes to the tail, and
 * waits for the next step like a used one), and only a user whose wrong streak is below
 * MAX_WRONG_STREAK: its next right code resets the server's failure counter.
 */
export class SoakPool {
  private items: (BenchUser | undefined)[] = [];
  private head = 0;
  private readonly inFlight = new Set<BenchUser>();
  private readonly streak = new WeakMap<BenchUser, number>();
  /** Users whose request was cut off at the end of a run (their session may have moved on): dropped. */
  lost = 0;

  /**
   * `ahead`: when a user has spent the current step, send the next step's code, which the server's
   * ±1 step window accepts (a phone clock up to 30 s ahead). Only for --smoke, whose few users,
   * enrolled with the current step's code, would otherwise have nothing to redeem until the next step.
   */
  constructor(
    users: BenchUser[],
    private readonly ahead = false,
  ) {
    this.items = [...users].sort((a, b) => a.lastStep - b.lastStep);
  }

  /** The step `user` would redeem at `step`, or undefined when it has none left. */
  private stepFor(user: BenchUser, step: number): number | undefined {
    if (user.lastStep < step) return step;
    if (this.ahead && user.lastStep === step) return step + 1;
    return undefined;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /**
   * Adds users enrolled since the last run, at the tail: their step is the latest. (Sorting the
   * queue again would bring the users whose last codes were wrong, and whose steps are the oldest,
   * to the head together, where no wrong code could be sent until they had a right one.)
   */
  add(users: BenchUser[]): void {
    for (const user of users) this.items.push(user);
  }

  private shift(): BenchUser | undefined {
    const user = this.items[this.head];
    if (user === undefined) return undefined;
    this.items[this.head++] = undefined;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return user;
  }

  /** A user with the current step's code still to redeem, or undefined when none is left in this step. */
  pickRight(now = Date.now()): PoolPick | undefined {
    const user = this.items[this.head];
    const step = user && this.stepFor(user, stepAt(now));
    if (user === undefined || step === undefined) return undefined;
    this.shift();
    this.inFlight.add(user);
    return { user, step, right: true, body: JSON.stringify({ code: totpCode(user.key, step) }) };
  }

  /** A user for a wrong code: the first idle one whose wrong streak allows another. */
  pickWrong(now = Date.now()): PoolPick | undefined {
    const step = stepAt(now);
    for (let tries = Math.min(this.size, 100); tries > 0; tries--) {
      const user = this.shift()!;
      if ((this.streak.get(user) ?? 0) < MAX_WRONG_STREAK) {
        this.inFlight.add(user);
        return { user, step, right: false, body: JSON.stringify({ code: wrongCode(user.key, step) }) };
      }
      // Not this one (its next request must be a right code): it waits for the next step at the tail.
      this.items.push(user);
    }
    return undefined;
  }

  /** The answer to a pick: `ok` when it was the expected one (200 for a right code, 401 for a wrong one). */
  answered(pick: PoolPick, ok: boolean, setCookie: string | string[] | undefined): void {
    const { user } = pick;
    if (!this.inFlight.delete(user)) return;
    if (pick.right) {
      // Sent, the step is spent whatever the answer (a replayed code would be refused).
      user.lastStep = pick.step;
      if (ok) {
        user.cookie = cookieFrom(setCookie) ?? user.cookie;
        this.streak.set(user, 0);
      }
    } else {
      this.streak.set(user, (this.streak.get(user) ?? 0) + 1);
    }
    // An unexpected answer leaves the user's state unknown: it is not used again.
    if (ok) this.items.push(user);
    else this.lost++;
  }

  /** Users with the current step's code still to redeem. */
  capacity(now = Date.now()): number {
    const step = stepAt(now);
    let n = 0;
    for (let i = this.head; i < this.items.length; i++) {
      if (this.stepFor(this.items[i]!, step) !== undefined) n++;
    }
    return n;
  }

  /** After a run: users whose request was cut off are dropped (their cookie is unknown). */
  endRun(): void {
    this.lost += this.inFlight.size;
    this.inFlight.clear();
  }
}
