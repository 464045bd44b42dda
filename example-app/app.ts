import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RedisStore as SessionStore } from 'connect-redis';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import {
  createMfa,
  MemoryStore,
  type Mfa,
  MfaError,
  type MfaEvent,
  MINUTE,
  RedisStore,
} from '../lib/index.js';
import { devOutboxRouter, type ExampleDelivery } from './delivery.js';
import { sessionEnder } from './end-sessions.js';
import { type User, UserDirectory } from './users.js';

/** What the session remembers about the signed-in user (the app's primary login). */
export interface SessionUser {
  id: string;
  email: string;
  name?: string;
}

/**
 * The app's own key in the session. Typed through this accessor rather than by augmenting
 * express-session's global `SessionData`, which other code in the same program may declare too.
 */
const appSession = (req: Request) => req.session as Request['session'] & { user?: SessionUser };

export interface ExampleAppOptions {
  /** Redis for sessions and MFA records; without it both live in memory. */
  redisUrl?: string;
  /** Clock for the MFA package (tests). */
  now?: () => number;
  /** Where startup notes and MFA events go (default: console.log). */
  log?: (line: string) => void;
  /**
   * The origin the pages are served from, for passkeys (their RP id is 'localhost'). Default
   * http://localhost:3000; server.ts passes the port it listens on.
   */
  origin?: string;
  /**
   * Email and SMS codes (`deliveryFromEnv` in delivery.ts: real providers or the dev outbox). Without
   * it codes are off; server.ts turns them on.
   */
  delivery?: ExampleDelivery;
}

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
const COOKIE_NAME = 'mfa_example.sid';
const DEV_SESSION_SECRET = 'dev-only session secret for the express-mfa example app';
const DEV_MFA_SECRET = 'dev-only MFA secret for the express-mfa example app: set MFA_SECRET';
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** The browser half of SimpleWebAuthn, as the UMD bundle its package ships (no bundler here). */
const WEBAUTHN_BROWSER_BUNDLE = join(
  dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')),
  '../dist/bundle/index.umd.min.js',
);

/** An error a JSON route answers as `status` + `{ error: code, message }`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const badRequest = (message: string) => new HttpError(400, 'invalid_request', message);

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

function toSessionUser(user: User): SessionUser {
  return user.name === undefined
    ? { id: user.id, email: user.email }
    : { id: user.id, email: user.email, name: user.name };
}

/** express-session's callback methods, awaited. */
const regenerate = (req: Request) =>
  new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
const save = (req: Request) =>
  new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
const destroy = (req: Request) =>
  new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));

function redisLabel(url: string): string {
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}`; // never log credentials
  } catch {
    return 'the given REDIS_URL';
  }
}

/** No inline script or style anywhere, so the policy can be strict; the QR code is a data: URL. */
function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Content-Security-Policy':
      "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
  });
  next();
}

/** The example site: password login, then express-mfa for TOTP, backup codes and step-up. */
export async function createExampleApp(
  opts: ExampleAppOptions = {},
): Promise<{ app: express.Express; close(): Promise<void> }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const users = new UserDirectory();

  const sessionSecret = process.env.SESSION_SECRET ?? DEV_SESSION_SECRET;
  if (sessionSecret === DEV_SESSION_SECRET)
    log('Using a dev-only session secret: set SESSION_SECRET in production.');
  const mfaSecret = process.env.MFA_SECRET ?? DEV_MFA_SECRET;
  if (mfaSecret === DEV_MFA_SECRET)
    log('Using a dev-only MFA secret: set MFA_SECRET (>= 32 characters) in production.');

  let sessionStore: session.Store;
  let mfaStore: MemoryStore | RedisStore;
  let redis: Redis | undefined;
  if (opts.redisUrl) {
    // Fail fast instead of queueing commands while Redis is away: requests then answer 503 quickly.
    redis = new Redis(opts.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      lazyConnect: true,
    });
    // ioredis reports every failed reconnect: say it once, and again when the connection is back.
    let lastError: string | undefined;
    redis.on('error', (err: Error) => {
      if (err.message !== lastError) log(`Redis error: ${err.message}`);
      lastError = err.message;
    });
    redis.on('ready', () => {
      if (lastError) log('Redis connection restored.');
      lastError = undefined;
    });
    try {
      await redis.connect(); // with the offline queue off, nothing may be sent before this
    } catch (err) {
      redis.disconnect();
      const reason = lastError ?? (err as Error).message;
      throw new Error(`Could not connect to Redis at ${redisLabel(opts.redisUrl)}: ${reason}`);
    }
    sessionStore = new SessionStore({ client: redis, prefix: 'example:sess:' });
    mfaStore = new RedisStore({ client: redis });
    log(`Sessions and MFA records are stored in Redis at ${redisLabel(opts.redisUrl)}.`);
  } else {
    sessionStore = new session.MemoryStore();
    mfaStore = new MemoryStore();
    log('Using the in-memory store: data is lost on restart (set REDIS_URL to use Redis).');
  }

  /** The signed-in user, if the account still exists (users live in memory, sessions may not). */
  const currentUser = (req: Request): SessionUser | undefined => {
    const user = appSession(req)?.user;
    return user && users.get(user.id) ? user : undefined;
  };

  let mfa: Mfa;
  try {
    mfa = createMfa({
      issuer: 'express-mfa example',
      store: mfaStore,
      secret: mfaSecret,
      getUser: currentUser,
      // An audit trail: events never carry a secret or a code, so they are safe to log whole.
      onEvent: (event: MfaEvent) => {
        const { type, userId, ...rest } = event;
        log(`mfa ${type} user=${userId} ${JSON.stringify(rest)}`);
      },
      // Passkeys: as a second factor, for step-up, and to sign in without a password.
      webauthn: {
        rpId: 'localhost',
        rpName: 'express-mfa example',
        origin: opts.origin ?? 'http://localhost:3000',
      },
      onLogin: (req, userId) => {
        const user = users.get(userId);
        // Users live in memory, passkeys may live in Redis: a restart can leave a passkey without its account.
        if (!user) throw new MfaError('unauthenticated', 'The account of this passkey no longer exists.');
        appSession(req).user = toSessionUser(user);
      },
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.delivery?.email
        ? {
            email: opts.delivery.email,
            // Account recovery for users who lost every factor: a code to the address on file.
            findUserByEmail: (email: string) => users.findByEmail(email),
            // Completing recovery signs the user out everywhere else (their old sessions may be a thief's).
            endSessions: sessionEnder(sessionStore),
          }
        : {}),
      ...(opts.delivery?.sms ? { sms: opts.delivery.sms } : {}),
    });
  } catch (err) {
    redis?.disconnect(); // e.g. a bad MFA_SECRET: do not leave the connection open behind the error
    throw err;
  }

  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  // Static files first: they need no session, so they cost no Redis command.
  app.use('/assets', express.static(`${PUBLIC_DIR}assets`, { index: false, maxAge: 0 }));
  // Same origin, so the strict CSP (script-src 'self') allows it.
  app.get('/vendor/simplewebauthn-browser.js', (_req, res) => {
    res.sendFile(WEBAUTHN_BROWSER_BUNDLE);
  });
  // The messages the dev outbox kept (development only; no session needed).
  if (opts.delivery?.outboxes.length) app.use(devOutboxRouter(opts.delivery.outboxes));

  const sessions = session({
    name: COOKIE_NAME,
    secret: sessionSecret,
    store: sessionStore,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: 8 * 60 * MINUTE },
  });
  // The session middleware only fails when its store does: answer 503, never a guess about the user.
  app.use((req, res, next) =>
    sessions(req, res, (err?: unknown) => {
      if (!err) return next();
      log(`session store error: ${err instanceof Error ? err.message : String(err)}`);
      next(
        new HttpError(503, 'unavailable', 'Sessions are unavailable right now. Please try again shortly.'),
      );
    }),
  );

  // Pages: plain HTML; their scripts call the JSON API.
  const page = (file: string, access: 'guest' | 'user' | 'any') => (req: Request, res: Response) => {
    const user = currentUser(req);
    if (access === 'user' && !user) return res.redirect(303, '/');
    if (access === 'guest' && user) return res.redirect(303, '/account');
    res.set('Cache-Control', 'no-store');
    res.sendFile(`${PUBLIC_DIR}${file}`);
  };
  app.get('/', page('index.html', 'guest'));
  app.get('/account', page('account.html', 'user'));
  app.get('/verify', page('verify.html', 'user'));
  app.get('/sensitive', page('sensitive.html', 'user'));
  // Recovery is for people who cannot finish signing in: signed in or not, and in the recovery session.
  app.get('/recover', page('recover.html', 'any'));

  // The package's JSON API (it parses its own bodies).
  app.use('/auth/mfa', mfa.router);

  // The app's own JSON API.
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
    // A new session id on login, so a session id planted before login is worthless.
    await regenerate(req);
    appSession(req).user = toSessionUser(user);
    await save(req);
    res.json({ user: appSession(req).user });
  });

  api.post('/logout', async (req, res) => {
    if (req.session) await destroy(req);
    res.clearCookie(COOKIE_NAME, { path: '/', httpOnly: true, sameSite: 'lax' });
    res.json({ ok: true });
  });

  // What this setup offers, so pages show only what works (recovery and SMS need their senders).
  api.get('/features', (_req, res) => {
    res.json({
      recovery: Boolean(opts.delivery?.email),
      sms: Boolean(opts.delivery?.sms),
      passkeys: true,
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
  app.use('/api', api);

  app.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('Page not found.');
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: err.code, message: err.message });
      return;
    }
    const { type, status } = (err ?? {}) as { type?: unknown; status?: unknown };
    if (type === 'entity.parse.failed') {
      res.status(400).json({ error: 'invalid_request', message: 'The request body is not valid JSON.' });
    } else if (type === 'entity.too.large') {
      res.status(413).json({ error: 'payload_too_large', message: 'The request body is too large.' });
    } else if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: 'invalid_request', message: 'The request could not be understood.' });
    } else {
      log(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      res
        .status(500)
        .json({ error: 'internal', message: 'Something went wrong on our side. Please try again.' });
    }
  });

  return {
    app,
    async close() {
      if (!redis) return;
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
