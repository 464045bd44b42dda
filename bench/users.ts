import type { PasskeyState } from './passkeys.js';
import { base32Decode, stepAt, totpCode } from './totp-code.js';

/** One pre-enrolled user, as the load generator tracks it. */
export interface BenchUser {
  id: string;
  /** The TOTP key (decoded secret from /totp/setup). */
  key: Buffer;
  /** `name=value` of the current session cookie: a verification regenerates the session, so it changes. */
  cookie: string;
  /** The last TOTP step this user redeemed: the server accepts only later ones (replay rule). */
  lastStep: number;
  /** Unused backup codes from /totp/confirm. */
  backupCodes: string[];
  /** Passkey users only (bench/passkeys.ts): the authenticator holding its passkey, and a signed assertion ready to send. */
  passkey?: PasskeyState;
  /** Its last request was cut off at the end of a run, so its session may have moved on: never used again. */
  lost?: boolean;
}

/** The session cookie a response set, as `name=value`, or undefined. */
export function cookieFrom(setCookie: string | string[] | undefined): string | undefined {
  const first = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  return first?.split(';')[0];
}

export async function post(
  base: string,
  path: string,
  body: unknown,
  cookie?: string,
): Promise<{ json: Record<string, unknown>; cookie: string | undefined }> {
  const response = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST ${path} answered ${response.status}: ${text}`);
  return {
    json: JSON.parse(text) as Record<string, unknown>,
    cookie: cookieFrom(response.headers.getSetCookie()),
  };
}

/**
 * A signed-in user with TOTP enrolled through the real routes: the bench-only login, then
 * POST /totp/setup and POST /totp/confirm with a current code. Confirming elevates the session, so
 * the returned cookie is a verified session (good for the guard for 5 minutes).
 */
export async function enrolUser(base: string, id: string): Promise<BenchUser> {
  const login = await post(base, '/bench/login', { id });
  if (!login.cookie) throw new Error('/bench/login set no cookie');
  const setup = await post(base, '/auth/mfa/totp/setup', {}, login.cookie);
  const secret = setup.json.secret;
  if (typeof secret !== 'string') throw new Error('/totp/setup answered no secret');
  const key = base32Decode(secret);
  const step = stepAt(Date.now());
  const confirm = await post(base, '/auth/mfa/totp/confirm', { code: totpCode(key, step) }, login.cookie);
  const backupCodes = confirm.json.backupCodes;
  if (!Array.isArray(backupCodes) || backupCodes.length === 0)
    throw new Error('/totp/confirm gave no backup codes');
  return {
    id,
    key,
    cookie: confirm.cookie ?? login.cookie,
    lastStep: step,
    backupCodes: backupCodes.map(String),
  };
}

/**
 * Enrols `count` users with `concurrency` in flight, spread over the servers in `bases` (processes of
 * one app sharing one Redis); ids are `${prefix}${n}`.
 */
export async function enrolUsers(
  bases: string[],
  count: number,
  concurrency: number,
  prefix: string,
  enrol: (base: string, id: string) => Promise<BenchUser> = enrolUser,
): Promise<BenchUser[]> {
  const users: BenchUser[] = new Array(count);
  let next = 0;
  const worker = async (w: number) => {
    const base = bases[w % bases.length]!;
    while (next < count) {
      const n = next++;
      users[n] = await enrol(base, `${prefix}${n}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, w) => worker(w)));
  return users;
}

/** Verifies an enrolled user again (a later TOTP step), for a fresh elevated session. */
export async function reverify(base: string, user: BenchUser): Promise<void> {
  let step = stepAt(Date.now());
  if (step <= user.lastStep) step = user.lastStep + 1; // the next step is inside the ±1 window
  const result = await post(base, '/auth/mfa/totp/verify', { code: totpCode(user.key, step) }, user.cookie);
  user.lastStep = step;
  if (result.cookie) user.cookie = result.cookie;
}

/** A FIFO of users with O(1) push/shift and a bound on its size. */
class Queue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  get length() {
    return this.items.length - this.head;
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    const item = this.items[this.head];
    if (item === undefined) return undefined;
    this.items[this.head++] = undefined;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  push(item: T) {
    this.items.push(item);
  }
  *[Symbol.iterator]() {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }
}

/** What a rotation hands autocannon for one request. */
export interface Pick {
  user: BenchUser;
  /** The time step the code was computed for. */
  step: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Hands out users for a verification scenario, one request per user at a time: the user is out of
 * the queue while its request is in flight, and comes back with the cookie the answer set.
 */
export abstract class Rotation {
  protected readonly queue = new Queue<BenchUser>();
  private readonly inFlight = new Set<BenchUser>();
  /** Requests sent with no usable user (stays 0: segments are capped by `capacity()`). */
  exhausted = 0;
  /** Users dropped because their request was cut off at a segment's end (their cookie is unknown). */
  lost = 0;
  /** Users waiting in the queue (not in flight). */
  get size(): number {
    return this.queue.length;
  }
  /** The first few answers other than 200, for the report. */
  readonly failures: string[] = [];

  constructor(users: BenchUser[]) {
    for (const user of users) if (this.keep(user)) this.queue.push(user);
  }

  /** Whether `user` can send a valid code at time step `step`. */
  protected abstract usable(user: BenchUser, step: number): boolean;
  /** The request body for `user` at `step`. */
  protected abstract body(user: BenchUser, step: number): string;
  /** Marks the code sent at `step` as used, whatever the answer (a refused code is not retried). */
  protected abstract consume(user: BenchUser, step: number): void;
  /** Whether `user` has anything left to redeem. */
  protected abstract keep(user: BenchUser): boolean;
  /** How many requests can be served from now on, each by a user with a valid code. */
  abstract capacity(connections: number): number;

  pick(): Pick | undefined {
    const step = stepAt(Date.now());
    // Users share both rotations: one lost in the other rotation leaves this one too.
    for (let i = 0; i < 10_000 && this.queue.peek()?.lost; i++) this.queue.shift();
    const head = this.queue.peek();
    if (head === undefined || !this.usable(head, step)) {
      this.exhausted++;
      return undefined;
    }
    const user = this.queue.shift()!;
    this.inFlight.add(user);
    return {
      user,
      step,
      headers: { 'content-type': 'application/json', cookie: user.cookie },
      body: this.body(user, step),
    };
  }

  /** Called with the answer to a picked request. */
  answered(pick: Pick, status: number, setCookie: string | string[] | undefined, body: string): void {
    const { user, step } = pick;
    if (!this.inFlight.delete(user)) return;
    this.consume(user, step);
    if (status === 200) user.cookie = cookieFrom(setCookie) ?? user.cookie;
    else if (this.failures.length < 5) this.failures.push(`${status} ${body.slice(0, 200)}`);
    if (this.keep(user) && !user.lost) this.queue.push(user);
  }

  /** After a segment: users whose request was cut off may have a regenerated session; drop them. */
  endSegment(): void {
    this.lost += this.inFlight.size;
    for (const user of this.inFlight) user.lost = true;
    this.inFlight.clear();
  }
}

/** TOTP verification: each user redeems the current step's code, once per 30 s step. */
export class TotpRotation extends Rotation {
  constructor(users: BenchUser[]) {
    // Oldest step first, so the queue's head is always the user most likely to be usable.
    super([...users].sort((a, b) => a.lastStep - b.lastStep));
  }
  protected usable(user: BenchUser, step: number) {
    return user.lastStep < step;
  }
  protected body(user: BenchUser, step: number) {
    return JSON.stringify({ code: totpCode(user.key, step) });
  }
  protected consume(user: BenchUser, step: number) {
    user.lastStep = step;
  }
  protected keep() {
    return true;
  }
  capacity(connections: number) {
    // Users used in this step come back at the next one: count only those usable now, less a margin
    // for answers that came back out of order across a step boundary.
    const step = stepAt(Date.now());
    let n = 0;
    for (const user of this.queue) if (!user.lost && this.usable(user, step)) n++;
    return Math.max(0, n - connections);
  }
}

/** Backup code redemption: each code once. */
export class BackupRotation extends Rotation {
  protected usable(user: BenchUser) {
    return user.backupCodes.length > 0;
  }
  protected body(user: BenchUser) {
    return JSON.stringify({ code: user.backupCodes[user.backupCodes.length - 1] });
  }
  protected consume(user: BenchUser) {
    user.backupCodes.pop();
  }
  protected keep(user: BenchUser) {
    return user.backupCodes.length > 0;
  }
  capacity(connections: number) {
    // While more codes remain than `connections` users can hold (10 each), some user with a code is
    // not in flight, so every pick finds one.
    let codes = 0;
    let most = 0;
    for (const user of this.queue) {
      if (user.lost) continue;
      codes += user.backupCodes.length;
      most = Math.max(most, user.backupCodes.length);
    }
    return Math.max(0, codes - connections * most);
  }
}
