import { request } from 'node:http';
import { MemoryStore } from '../lib/index.js';
import { parseOptions } from '../lib/options.js';
import { BENCH_MFA_SECRET } from './protocol.js';
import type { ServerProcess } from './server-process.js';
import { stepAt, totpCode } from './totp-code.js';
import { type BenchUser, enrolUser, post } from './users.js';

/** One correctness check on one variant, as printed (and as the smoke test reads it). */
export interface CheckResult {
  check: 'replay' | 'lockout';
  variant: string;
  /** What was sent and what came back. */
  detail: string;
  /** Which processes answered, e.g. "2 of 2 workers (11 + 9)". */
  reached: string;
  passed: boolean;
}

/**
 * The failures the bench server allows before a factor locks: the library's default, read from the
 * library itself (the server passes no `limits`), so the check follows it if it changes.
 */
export const LOCKOUT_LIMIT = parseOptions({
  issuer: 'Bench',
  store: new MemoryStore(),
  secret: BENCH_MFA_SECRET,
  getUser: () => undefined,
}).limits.maxFailures;

interface Answer {
  status: number;
  error: string | undefined;
}

/**
 * POSTs JSON on a connection of its own (no keep-alive agent): behind Node's cluster module each new
 * connection goes to the next worker in turn, so a burst of these reaches every worker.
 */
function postAlone(base: string, path: string, body: unknown, cookie: string): Promise<Answer> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, base),
      {
        method: 'POST',
        agent: false,
        timeout: 10_000,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), cookie },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          let error: string | undefined;
          try {
            error = (JSON.parse(text) as { error?: string }).error;
          } catch {}
          resolve({ status: res.statusCode ?? 0, error });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** `count` more signed-in sessions of `user` (the app's login on other devices), their cookies. */
async function sessionsOf(base: string, user: BenchUser, count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const login = await post(base, '/bench/login', { id: user.id });
      if (!login.cookie) throw new Error('/bench/login set no cookie');
      return login.cookie;
    }),
  );
}

/** The next code `user` has not redeemed yet (this step's, or the next one's, inside the ±1 window). */
function nextCode(user: BenchUser): string {
  return totpCode(user.key, Math.max(stepAt(Date.now()), user.lastStep + 1));
}

/** How many answers of each kind, e.g. "1 × 200, 19 × 401 invalid_code". */
function tally(answers: Answer[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const key = a.error ? `${a.status} ${a.error}` : String(a.status);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => `${n} × ${key}`)
    .join(', ');
}

/** Sends `send()` and reports which of the server's processes answered (from their request counters). */
async function acrossProcesses<T>(
  server: ServerProcess,
  send: () => Promise<T>,
): Promise<{ value: T; reached: string; all: boolean }> {
  const before = await server.stats();
  const value = await send();
  const after = await server.stats();
  if (!after.workers) return { value, reached: '1 process', all: true };
  const counts = after.workers.map(
    (w) => w.requests - (before.workers?.find((b) => b.pid === w.pid)?.requests ?? 0),
  );
  const hit = counts.filter((n) => n > 0).length;
  return {
    value,
    reached: `${hit} of ${counts.length} workers (${counts.join(' + ')})`,
    all: hit === counts.length,
  };
}

/**
 * Replay: one valid code sent `concurrency` times at once, each from another signed-in session of
 * the same user (as from several devices), all on new connections. Exactly one may pass, whichever
 * process or store node they reach; every other is a failed attempt (`invalid_code`) until the
 * failures reach the lockout limit, and `too_many_attempts` after it.
 */
export async function replayCheck(
  server: ServerProcess,
  variant: string,
  id: string,
  concurrency: number,
): Promise<CheckResult> {
  const user = await enrolUser(server.url, id);
  const cookies = await sessionsOf(server.url, user, concurrency);
  const code = nextCode(user);
  const {
    value: answers,
    reached,
    all,
  } = await acrossProcesses(server, () =>
    Promise.all(cookies.map((cookie) => postAlone(server.url, '/auth/mfa/totp/verify', { code }, cookie))),
  );
  // A used code counts as a failed attempt: past the limit the rest find the factor locked.
  const judged = Math.min(concurrency - 1, LOCKOUT_LIMIT);
  const passed =
    all &&
    answers.filter((a) => a.status === 200).length === 1 &&
    answers.filter((a) => a.status === 401 && a.error === 'invalid_code').length === judged &&
    answers.filter((a) => a.status === 429 && a.error === 'too_many_attempts').length ===
      concurrency - 1 - judged;
  return {
    check: 'replay',
    variant,
    detail: `one code × ${concurrency} at once: ${tally(answers)}`,
    reached,
    passed,
  };
}

/**
 * Lockout: `LOCKOUT_LIMIT + extra` wrong codes at once, from as many sessions of one user, on new
 * connections; exactly `LOCKOUT_LIMIT` may be judged (`invalid_code`) and the rest must find the factor
 * locked (`too_many_attempts`). Then the right code, from `4` more sessions at once (so every worker
 * gets some): all refused with `too_many_attempts`.
 */
export async function lockoutCheck(
  server: ServerProcess,
  variant: string,
  id: string,
  extra = 3,
): Promise<CheckResult> {
  const user = await enrolUser(server.url, id);
  const wrongCookies = await sessionsOf(server.url, user, LOCKOUT_LIMIT + extra);
  const rightCookies = await sessionsOf(server.url, user, 4);
  const right = nextCode(user);
  // A code that is none of the ones the ±1 window accepts around now.
  const now = stepAt(Date.now());
  const accepted = new Set([-2, -1, 0, 1, 2].map((d) => totpCode(user.key, now + d)));
  let wrong = totpCode(user.key, now + 1000);
  for (let s = now + 1001; accepted.has(wrong); s++) wrong = totpCode(user.key, s);

  const guesses = await acrossProcesses(server, () =>
    Promise.all(
      wrongCookies.map((cookie) => postAlone(server.url, '/auth/mfa/totp/verify', { code: wrong }, cookie)),
    ),
  );
  const after = await acrossProcesses(server, () =>
    Promise.all(
      rightCookies.map((cookie) => postAlone(server.url, '/auth/mfa/totp/verify', { code: right }, cookie)),
    ),
  );
  const judged = guesses.value.filter((a) => a.status === 401 && a.error === 'invalid_code').length;
  const locked = guesses.value.filter((a) => a.status === 429 && a.error === 'too_many_attempts').length;
  const refused = after.value.filter((a) => a.status === 429 && a.error === 'too_many_attempts').length;
  const passed =
    guesses.all &&
    after.all &&
    judged === LOCKOUT_LIMIT &&
    locked === extra &&
    refused === rightCookies.length;
  return {
    check: 'lockout',
    variant,
    detail: `limit ${LOCKOUT_LIMIT}; ${wrongCookies.length} wrong codes at once: ${tally(guesses.value)}; then the right code × ${rightCookies.length}: ${tally(after.value)}`,
    reached: `${guesses.reached}; ${after.reached}`,
    passed,
  };
}
