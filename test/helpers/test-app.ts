import { RedisStore as SessionStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import type { Redis } from 'ioredis';
import { generateSync } from 'otplib';
import supertest from 'supertest';
import { createMfa, type Mfa, type MfaEvent, type MfaOptions, MINUTE, RedisStore } from '../../lib/index.js';

export const SECRET = 'test-secret-that-is-at-least-32-characters-long';

/** A clock tests move by hand; starts mid-step so ±1-step tests are unambiguous. */
export function testClock(start = Date.UTC(2026, 0, 1, 12, 0, 10)) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
    set: (ms: number) => {
      t = ms;
    },
  };
}
export type TestClock = ReturnType<typeof testClock>;

export interface TestApp {
  app: express.Express;
  mfa: Mfa;
  clock: TestClock;
  events: MfaEvent[];
  /** A cookie-keeping client signed in as `userId`. */
  signIn(userId: string, email?: string): Promise<supertest.Agent>;
}

/**
 * An app as a user of the package would write it: express-session on connect-redis, a fake primary
 * login at POST /test/login, the router at /auth/mfa and guarded routes.
 */
export async function makeTestApp(
  redis: Redis,
  overrides: Partial<MfaOptions> & { prefix?: string } = {},
): Promise<TestApp> {
  const clock = testClock();
  const events: MfaEvent[] = [];
  const { prefix = `t${Math.random().toString(36).slice(2)}:`, ...options } = overrides;
  const app = express();
  app.use(
    session({
      store: new SessionStore({ client: redis, prefix: `${prefix}sess:` }),
      secret: 'session-secret',
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax' },
    }),
  );
  const mfa = createMfa({
    issuer: 'Acme',
    store: new RedisStore({ client: redis, prefix: `${prefix}mfa:` }),
    secret: SECRET,
    getUser: (req) => req.session.user,
    onEvent: (e) => {
      events.push(e);
    },
    now: clock.now,
    ...options,
  });
  app.post('/test/login', express.json(), (req, res) => {
    req.session.regenerate(() => {
      req.session.user = { id: req.body.id, email: req.body.email };
      res.json({ ok: true });
    });
  });
  // Switches the signed-in user without touching MFA state, as an app's own login bug might.
  app.post('/test/become', express.json(), (req, res) => {
    req.session.user = { id: req.body.id };
    res.json({ ok: true });
  });
  app.get('/session-only', (_req, res) => {
    res.json({ ok: true });
  });
  app.use('/auth/mfa', mfa.router);
  app.get('/guarded', mfa.requireMfa(5 * MINUTE), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/guarded-once', mfa.requireMfa(Number.POSITIVE_INFINITY), (_req, res) => {
    res.json({ ok: true });
  });
  return {
    app,
    mfa,
    clock,
    events,
    async signIn(userId, email = `${userId}@example.com`) {
      const agent = supertest.agent(app);
      await agent.post('/test/login').send({ id: userId, email }).expect(200);
      return agent;
    },
  };
}

declare module 'express-session' {
  interface SessionData {
    user?: { id: string; email?: string };
  }
}

/** The TOTP code for `secret` at the test clock's time (plus `offsetMs`). */
export function totpCode(secret: string, clock: TestClock, offsetMs = 0): string {
  return generateSync({ secret, epoch: Math.floor((clock.now() + offsetMs) / 1000) });
}

/** Enrols TOTP for a signed-in agent and returns its secret and first backup codes. */
export async function enrolTotp(agent: supertest.Agent, clock: TestClock) {
  const setup = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
  const secret: string = setup.body.secret;
  const confirm = await agent
    .post('/auth/mfa/totp/confirm')
    .send({ code: totpCode(secret, clock) })
    .expect(200);
  // The confirm used up this step; later verifications in a test move the clock on.
  return { secret, backupCodes: confirm.body.backupCodes as string[] };
}

/**
 * Enrols TOTP, then verifies with the next step's code a minute later (the confirm used its step), as
 * a user who set up the app and then stepped up would: the session is verified by 'totp' at the
 * clock's new time. Returns the secret.
 */
export async function enrolAndVerifyTotp(agent: supertest.Agent, clock: TestClock): Promise<string> {
  const { secret } = await enrolTotp(agent, clock);
  clock.advance(60_000);
  await agent
    .post('/auth/mfa/totp/verify')
    .send({ code: totpCode(secret, clock) })
    .expect(200);
  return secret;
}

/** A well-formed code that is certainly wrong for `secret` at the test clock's time (none of ±2 steps). */
export function wrongCode(secret: string, clock: TestClock, seed = 0): string {
  const valid = new Set([-60_000, -30_000, 0, 30_000, 60_000].map((d) => totpCode(secret, clock, d)));
  for (let n = seed; ; n++) {
    const code = String(n % 1_000_000).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}
