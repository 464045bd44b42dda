import type { Request, RequestHandler } from 'express';
import session from 'express-session';
import { MINUTE } from '../lib/index.js';
import type { User, UserDirectory } from './users.js';

/** What the session remembers about the signed-in user (the app's primary login). */
export interface SessionUser {
  id: string;
  email: string;
  name?: string;
}

export const COOKIE_NAME = 'mfa_example.sid';

/**
 * The app's own key in the session. Typed through this accessor rather than by augmenting
 * express-session's global `SessionData`, which other code in the same program may declare too.
 */
export const appSession = (req: Request) => req.session as Request['session'] & { user?: SessionUser };

export function toSessionUser(user: User): SessionUser {
  return user.name === undefined
    ? { id: user.id, email: user.email }
    : { id: user.id, email: user.email, name: user.name };
}

/** The signed-in user, if the account still exists (users live in memory, sessions may not). */
export function currentUserOf(users: UserDirectory) {
  return (req: Request): SessionUser | undefined => {
    const user = appSession(req)?.user;
    return user && users.get(user.id) ? user : undefined;
  };
}

/** express-session's callback methods, awaited. */
export const regenerate = (req: Request) =>
  new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
export const save = (req: Request) =>
  new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
export const destroy = (req: Request) =>
  new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));

/**
 * express-session on the given store. The app wraps it in `mfa.session(...)`, which turns a store
 * failure into a 503 `unavailable` for every request, never a guess about who is signed in.
 */
export function sessionMiddleware(opts: { secret: string; store: session.Store }): RequestHandler {
  return session({
    name: COOKIE_NAME,
    secret: opts.secret,
    store: opts.store,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: 8 * 60 * MINUTE },
  });
}
