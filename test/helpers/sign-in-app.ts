import { after, before } from 'node:test';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import supertest from 'supertest';
import type { Mfa, MfaOptions } from '../../lib/index.js';
import { startRedis, type TestRedis } from './redis-server.js';
import { makeTestApp, type TestApp } from './test-app.js';

/** One throwaway redis-server for the test file, connected before the first test; returns its client. */
export function fileRedis(): () => Redis {
  let server: TestRedis;
  let client: Redis;
  before(async () => {
    server = await startRedis();
    client = server.client();
    await client.ping();
  });
  after(async () => {
    client.disconnect();
    await server.close();
  });
  return () => client;
}

/**
 * `POST /test/password?id=...`: a password route as the README shows it. The app checks the
 * password (here, anyone is who they say), then `mfa.signIn` decides.
 */
export function addPasswordRoute(app: Express, mfa: Mfa): void {
  app.post('/test/password', async (req, res, next) => {
    try {
      const id = String(req.query.id);
      res.json(await mfa.signIn(req, res, { id, email: `${id}@example.com` }));
    } catch (error) {
      next(error);
    }
  });
}

export interface SignInApp extends TestApp {
  /** How often the app's `onLogin` ran, per user id. */
  logins: Map<string, number>;
  /** What the package logged (`logger`): unexpected errors, misuse. */
  logged: string[];
  /** A fresh browser (cookie jar) that signs in with its password through `mfa.signIn`. */
  password(
    userId: string,
    agent?: supertest.Agent,
  ): Promise<{ agent: supertest.Agent; res: supertest.Response }>;
}

/**
 * The test app with a password route as the README shows it: the app checks the password (here,
 * anyone is who they say), then `mfa.signIn` decides; `onLogin` is the one place that signs in.
 * `GET /test/me` shows whom the app sees.
 */
export async function makeSignInApp(redis: Redis, overrides: Partial<MfaOptions> & { prefix?: string } = {}) {
  const logins = new Map<string, number>();
  const logged: string[] = [];
  const t = await makeTestApp(redis, {
    logger: {
      warn: (message) => logged.push(message),
      error: (message, detail) => logged.push(`${message} ${String(detail ?? '')}`),
    },
    onLogin: (req, userId) => {
      logins.set(userId, (logins.get(userId) ?? 0) + 1);
      req.session.user = { id: userId, email: `${userId}@example.com` };
    },
    ...overrides,
  });
  addPasswordRoute(t.app, t.mfa);
  t.app.get('/test/me', (req, res) => {
    res.json({ user: req.session?.user ?? null });
  });
  const app: SignInApp = {
    ...t,
    logins,
    logged,
    async password(userId, agent = supertest.agent(t.app)) {
      const res = await agent.post(`/test/password?id=${encodeURIComponent(userId)}`).expect(200);
      return { agent, res };
    },
  };
  return app;
}

/** The session cookie (`connect.sid=...`) a response set, if any. */
export function sessionCookie(res: supertest.Response): string | undefined {
  return ([] as string[])
    .concat(res.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith('connect.sid='))
    ?.split(';')[0];
}
