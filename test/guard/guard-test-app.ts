import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type supertest from 'supertest';
import type { Mfa, MfaOptions } from '../../lib/index.js';
import { ORIGIN, RP_ID } from '../factors/webauthn/webauthn-test-app.js';
import { makeTestApp, type TestApp } from '../helpers/test-app.js';

export interface GuardTestApp extends TestApp {
  /** Errors that reached the app's own error handler (which answers 500 `{ error: 'app_error' }`). */
  errors: unknown[];
}

/**
 * The shared test app with passkeys on (email and SMS through `overrides`) and the app's
 * own guarded routes, declared by `routes` before the app's error handler.
 */
export async function makeGuardApp(
  redis: Redis,
  routes: (mfa: Mfa, app: TestApp['app']) => void,
  overrides: Partial<MfaOptions> & { prefix?: string } = {},
): Promise<GuardTestApp> {
  await redis.ping();
  const t = await makeTestApp(redis, {
    webauthn: { rpId: RP_ID, rpName: 'Acme', origin: ORIGIN },
    ...overrides,
  });
  routes(t.mfa, t.app);
  const errors: unknown[] = [];
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    errors.push(error);
    res.status(500).json({ error: 'app_error' });
  };
  t.app.use(onError);
  return { ...t, errors };
}

/** A handler that answers what the guard left in `res.locals.mfa`. */
export const showLocals: RequestHandler = (_req, res) => {
  res.json({ ok: true, mfa: res.locals.mfa });
};

/** Headers of a client behind a proxy the app trusts: its address and its browser. */
export const client = (ip: string, userAgent = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0') => ({
  'X-Forwarded-For': ip,
  'User-Agent': userAgent,
});

/** The session cookie a response set (`connect.sid=...`). */
export function sessionCookie(res: supertest.Response): string {
  const cookie = ([] as string[])
    .concat(res.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith('connect.sid='))
    ?.split(';')[0];
  if (!cookie) throw new Error('no session cookie was set');
  return cookie;
}
