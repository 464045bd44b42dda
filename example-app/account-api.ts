import express, { type Request, type Router } from 'express';
import { type Mfa, MINUTE } from '../lib/index.js';
import {
  appSession,
  COOKIE_NAME,
  destroy,
  regenerate,
  type SessionUser,
  save,
  toSessionUser,
} from './app-session.js';
import type { ExampleDelivery } from './delivery.js';
import { badRequest, HttpError } from './http-errors.js';
import type { UserDirectory } from './users.js';

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function objectBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

function readEmail(body: Record<string, unknown>): string {
  const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : '';
  if (!email) throw badRequest('Please enter your email address.');
  if (email.length > 254 || !EMAIL_PATTERN.test(email)) {
    throw badRequest('Please enter a valid email address, like ada@example.com.');
  }
  return email;
}

function readPassword(body: Record<string, unknown>, { isNew }: { isNew: boolean }): string {
  const password = body.password;
  if (typeof password !== 'string' || password.length === 0) throw badRequest('Please enter a password.');
  if (password.length > 200) throw badRequest('Passwords can be at most 200 characters long.');
  if (isNew && password.length < 8) throw badRequest('Choose a password of at least 8 characters.');
  return password;
}

function readName(body: Record<string, unknown>): string | undefined {
  if (body.name === undefined || body.name === null) return undefined;
  if (typeof body.name !== 'string') throw badRequest('The name must be text.');
  const name = body.name.trim();
  if (name.length > 100) throw badRequest('Names can be at most 100 characters long.');
  return name || undefined;
}

/**
 * The app's own JSON API under /api: sign-up, password login and logout, who is signed in, what this
 * setup offers, and the sensitive action behind express-mfa's step-up guard.
 */
export function accountApi(deps: {
  users: UserDirectory;
  mfa: Mfa;
  currentUser: (req: Request) => SessionUser | undefined;
  delivery?: ExampleDelivery;
}): Router {
  const { users, mfa, currentUser, delivery } = deps;
  const api = express.Router();
  api.use(express.json({ limit: '16kb' }));
  api.use((req, _res, next) => {
    // Only JSON bodies change state, so a plain cross-site form cannot drive these routes.
    if (req.method !== 'GET' && req.method !== 'HEAD' && !req.is('application/json')) {
      return next(
        new HttpError(415, 'unsupported_media_type', 'Send a JSON body with Content-Type: application/json.'),
      );
    }
    next();
  });

  api.post('/signup', async (req, res) => {
    const body = objectBody(req);
    const input = {
      email: readEmail(body),
      password: readPassword(body, { isNew: true }),
      name: readName(body),
    };
    const user = await users.create(input);
    if (!user)
      throw new HttpError(409, 'email_taken', 'An account with this email already exists: log in instead.');
    await regenerate(req);
    appSession(req).user = toSessionUser(user);
    await save(req);
    res.status(201).json({ user: appSession(req).user });
  });

  api.post('/login', async (req, res) => {
    const body = objectBody(req);
    const email = readEmail(body);
    const password = readPassword(body, { isNew: false });
    const user = await users.authenticate(email, password);
    if (!user)
      throw new HttpError(401, 'invalid_credentials', 'That email and password do not match an account.');
    // The password is right: express-mfa decides whether that is enough. It regenerates the session
    // (a session id planted before login is worthless) and signs in through onLogin, or leaves the
    // session waiting for the second factor.
    const result = await mfa.signIn(req, res, { id: user.id, email: user.email, name: user.name });
    res.json(result.status === 'signed_in' ? { ...result, user: appSession(req).user } : result);
  });

  api.post('/logout', async (req, res) => {
    if (req.session) await destroy(req);
    res.clearCookie(COOKIE_NAME, { path: '/', httpOnly: true, sameSite: 'lax' });
    res.json({ ok: true });
  });

  // What this setup offers, so pages show only what works (recovery and SMS need their senders).
  api.get('/features', (_req, res) => {
    res.json({
      recovery: Boolean(delivery?.email),
      sms: Boolean(delivery?.sms),
      passkeys: true,
      // Dev only: where the messages go instead (pages link to it next to every "send").
      outbox: Boolean(delivery?.outboxes.length),
    });
  });

  api.get('/me', (req, res) => {
    const user = currentUser(req);
    if (!user) throw new HttpError(401, 'unauthenticated', 'You are not signed in.');
    res.json({ user });
  });

  // The sensitive action: exporting the account's data needs an MFA within the last 5 minutes.
  api.post('/sensitive', mfa.requireMfa(5 * MINUTE), (req, res) => {
    const user = users.get(currentUser(req)!.id)!;
    res.set('Cache-Control', 'no-store');
    res.json({
      ok: true,
      export: { id: user.id, email: user.email, name: user.name ?? null, createdAt: user.createdAt },
      exportedAt: Date.now(),
    });
  });

  api.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'There is no such API route.')));
  return api;
}
