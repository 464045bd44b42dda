import { stepAt, totpCode } from './totp-code.js';
import { type BenchUser, cookieFrom, Rotation } from './users.js';

/** A pending sign-in older than this is not sent (the server's pending sessions live 5 minutes). */
const FRESH_MS = 4 * 60_000;

/** Users of the sign-in scenario: their pending sign-in's session cookie, once prepared. */
const pending = new WeakMap<BenchUser, { cookie: string; at: number }>();

const isPending = (user: BenchUser, now: number) => {
  const p = pending.get(user);
  return p !== undefined && now - p.at < FRESH_MS;
};

/** The app's password step, then `mfa.signIn`: a pending sign-in (bench/server.ts's POST /bench/password). */
export async function beginSignIn(base: string, user: BenchUser): Promise<string> {
  const response = await fetch(`${base}/bench/password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: user.id }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const cookie = cookieFrom(response.headers.getSetCookie());
  if (response.status !== 200 || !cookie || !text.includes('"mfa_required"')) {
    throw new Error(`POST /bench/password answered ${response.status} ${text} (cookie ${cookie})`);
  }
  return cookie;
}

/**
 * Sign-in completion: each request completes a distinct pending sign-in with its user's current TOTP
 * code. `prepare` (between runs, outside the measured time) runs the app's password step for as many
 * users as a run needs (POST /bench/password, which calls `mfa.signIn` and leaves a pending session);
 * the measured requests are the POST /auth/mfa/totp/verify calls alone.
 */
export class SignInRotation extends Rotation {
  /**
   * `begin` starts one pending sign-in on the server at `base` and gives its session cookie (default:
   * this bench's POST /bench/password, which calls `mfa.signIn`; the peers bench passes another library's).
   */
  constructor(
    users: BenchUser[],
    private readonly begin: (base: string, user: BenchUser) => Promise<string> = beginSignIn,
  ) {
    super([...users].sort((a, b) => a.lastStep - b.lastStep));
  }
  protected usable(user: BenchUser, step: number) {
    return user.lastStep < step && isPending(user, Date.now());
  }
  protected body(user: BenchUser, step: number) {
    return JSON.stringify({ code: totpCode(user.key, step) });
  }
  protected consume(user: BenchUser, step: number) {
    user.lastStep = step;
    pending.delete(user);
  }
  protected keep() {
    return true;
  }
  override pick() {
    const picked = super.pick();
    // The request carries the pending session, not the user's older signed-in one.
    if (picked) picked.headers.cookie = pending.get(picked.user)!.cookie;
    return picked;
  }
  capacity(connections: number) {
    const step = stepAt(Date.now());
    let n = 0;
    for (const user of this.queue) if (!user.lost && this.usable(user, step)) n++;
    return Math.max(0, n - connections);
  }
  /** Users free in the current time step (whether prepared or not). */
  free(): number {
    const step = stepAt(Date.now());
    let n = 0;
    for (const user of this.queue) if (!user.lost && user.lastStep < step) n++;
    return n;
  }

  /**
   * Gives at least `wanted` users free in this time step a fresh pending sign-in (or all there are),
   * then puts them at the front of the queue, so every pick finds one.
   */
  async prepare(base: string, wanted: number, concurrency = 16): Promise<void> {
    const now = Date.now();
    const step = stepAt(now);
    const users: BenchUser[] = [];
    for (let user = this.queue.shift(); user !== undefined; user = this.queue.shift()) {
      if (!user.lost) users.push(user);
    }
    const free = users.filter((u) => u.lastStep < step);
    const ready = free.filter((u) => isPending(u, now));
    const todo = free.filter((u) => !isPending(u, now)).slice(0, Math.max(0, wanted - ready.length));
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const user = todo[next++]!;
        pending.set(user, { cookie: await this.begin(base, user), at: Date.now() });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
    const front = new Set([...ready, ...todo]);
    for (const user of front) this.queue.push(user);
    for (const user of users) if (!front.has(user)) this.queue.push(user);
  }
}
