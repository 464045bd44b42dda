import type { Request } from 'express';
import type { SessionData, Store } from 'express-session';
import type { Redis } from 'ioredis';
import supertest from 'supertest';
import { type Outbox, outboxEmail, outboxSms } from '../../../lib/delivery/outbox.js';
import type { EmailSender, MfaEvent, MfaOptions, MfaUser } from '../../../lib/index.js';
import { enrolTotp, makeTestApp } from '../../helpers/test-app.js';
import { verifyByEmail } from '../email-sms/helpers.js';

/** Ends every session of `userId` in the request's session store (connect-redis or express-session's MemoryStore). */
export async function endSessionsIn(req: Request, userId: string): Promise<string[]> {
  const store = req.sessionStore as Store & { all: NonNullable<Store['all']> };
  const all = await new Promise<unknown>((resolve, reject) =>
    store.all((err, sessions) => (err ? reject(err) : resolve(sessions))),
  );
  // connect-redis lists sessions with their `id`; MemoryStore answers an object keyed by id.
  const entries: [string, SessionData & { user?: { id: string } }][] = Array.isArray(all)
    ? all.map((s: SessionData & { id: string }) => [s.id, s])
    : Object.entries(all as Record<string, SessionData>);
  const ended = entries
    .filter(([, s]) => s.user?.id === userId || s.mfa?.userId === userId)
    .map(([id]) => id);
  await Promise.all(
    ended.map(
      (id) =>
        new Promise<void>((resolve, reject) => store.destroy(id, (err) => (err ? reject(err) : resolve()))),
    ),
  );
  return ended;
}

/**
 * The test app with recovery on: email on an outbox, SMS on another, a user directory for
 * `findUserByEmail` (every user signed in through `signIn` is in it), and `endSessions` ending the
 * user's sessions in the session store.
 */
export async function makeRecoveryApp(
  redis: Redis,
  overrides: Partial<MfaOptions> & { prefix?: string } = {},
) {
  await redis.ping();
  const email = outboxEmail({ log: false });
  const sms = outboxSms({ log: false });
  const directory = new Map<string, MfaUser>();
  const lookups: string[] = [];
  const ended: string[] = [];
  const t = await makeTestApp(redis, {
    email,
    sms,
    findUserByEmail: (address) => {
      lookups.push(address);
      return directory.get(address);
    },
    endSessions: async (userId, req) => {
      ended.push(userId);
      await endSessionsIn(req, userId);
    },
    ...overrides,
  });
  t.app.get('/test/session', (req, res) => {
    const { cookie: _cookie, ...rest } = req.session as unknown as Record<string, unknown>;
    res.json(rest);
  });
  const signIn = t.signIn;
  return {
    ...t,
    email,
    sms,
    directory,
    lookups,
    ended,
    /** Signs `userId` in (and puts them in the directory under `<userId>@example.com`). */
    async signIn(userId: string, address = `${userId}@example.com`) {
      directory.set(address.toLowerCase(), { id: userId, email: address });
      return signIn(userId, address);
    },
    /** Adds an account without signing it in. */
    addUser(userId: string, address = `${userId}@example.com`) {
      directory.set(address.toLowerCase(), { id: userId, email: address });
    },
  };
}
export type RecoveryApp = Awaited<ReturnType<typeof makeRecoveryApp>>;

const CODE = /\b([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})\b/;

/** Waits (briefly, in real time) until `check` holds: `/recovery/start` works after it answers. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets the work behind `/recovery/start` finish when there is nothing to wait for (unknown addresses). */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** The recovery emails in an outbox, newest first. */
export const recoveryEmails = (outbox: Outbox) =>
  outbox.messages().filter((m) => m.subject?.startsWith('Recover your'));

/** Asks for a recovery code for `address` and returns it once the email is out. */
export async function requestCode(t: RecoveryApp, address: string): Promise<string> {
  const before = recoveryEmails(t.email).length;
  await supertest(t.app).post('/auth/mfa/recovery/start').send({ email: address }).expect(202);
  await eventually(() => recoveryEmails(t.email).length > before, 'the recovery email');
  return codeIn(recoveryEmails(t.email)[0]!.text);
}

export function codeIn(text: string): string {
  const code = CODE.exec(text)?.[1];
  if (!code) throw new Error('no recovery code in the message');
  return code;
}

/** Completes recovery in a new cookie-keeping client and returns it. */
export async function recover(t: RecoveryApp, address: string) {
  const code = await requestCode(t, address);
  const agent = supertest.agent(t.app);
  const res = await agent.post('/auth/mfa/recovery/complete').send({ email: address, code }).expect(200);
  return { agent, res, code };
}

export const eventsOf = (events: MfaEvent[], type: MfaEvent['type']) => events.filter((e) => e.type === type);

/** An email sender that always fails. */
export const failingEmail = (): EmailSender => ({ send: () => Promise.reject(new Error('smtp down')) });

/** Runs `fn` with console.log/info/warn/error captured; returns what was written. */
export async function captureConsole(fn: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const originals = methods.map((m) => console[m]);
  for (const m of methods) {
    console[m] = (...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === 'string' ? a : (JSON.stringify(a) ?? String(a)))).join(' '));
    };
  }
  try {
    await fn();
  } finally {
    methods.forEach((m, i) => {
      console[m] = originals[i]!;
    });
  }
  return lines.join('\n');
}

/** Email is an implicit factor here, so a first TOTP needs a fresh MFA: verify by email, then enrol. */
export async function enrolTotpFresh(t: RecoveryApp, agent: supertest.Agent) {
  await verifyByEmail(agent, t.email);
  return enrolTotp(agent, t.clock);
}
