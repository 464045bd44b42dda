import express from 'express';
import { createMfa, type Mfa, MfaError, type MfaEvent } from '../lib/index.js';
import { accountApi } from './account-api.js';
import { appSession, currentUserOf, sessionMiddleware, toSessionUser } from './app-session.js';
import { devOutboxRouter, type ExampleDelivery } from './delivery.js';
import { sessionEnder } from './end-sessions.js';
import { sendErrorPage, wantsPage } from './error-pages.js';
import { errorHandler, notFound } from './http-errors.js';
import { pages, securityHeaders, staticFiles } from './pages.js';
import { openStores } from './stores.js';
import { UserDirectory } from './users.js';

export type { SessionUser } from './app-session.js';

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

const DEV_SESSION_SECRET = 'dev-only session secret for the express-mfa example app';
const DEV_MFA_SECRET = 'dev-only MFA secret for the express-mfa example app: set MFA_SECRET';

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

  const stores = await openStores(opts.redisUrl, log);
  const currentUser = currentUserOf(users);

  let mfa: Mfa;
  try {
    mfa = createMfa({
      issuer: 'express-mfa example',
      store: stores.mfaStore,
      secret: mfaSecret,
      getUser: currentUser,
      logger: { warn: log, error: (message, detail) => log(detail ? `${message} ${detail}` : message) },
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
      // "Remember this device" on the sign-in page: 30 days without the second factor at sign-in.
      trustedDevices: true,
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
            endSessions: sessionEnder(stores.sessionStore),
          }
        : {}),
      ...(opts.delivery?.sms ? { sms: opts.delivery.sms } : {}),
    });
  } catch (err) {
    stores.redis?.disconnect(); // e.g. a bad MFA_SECRET: do not leave the connection open behind the error
    throw err;
  }

  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  // Static files first: they need no session, so they cost no Redis command.
  app.use(staticFiles());
  // The messages the dev outbox kept (development only; no session needed).
  if (opts.delivery?.outboxes.length) app.use(devOutboxRouter(opts.delivery.outboxes));

  // A session-store outage is a 503 for every request: the styled page for a browser, JSON for the API.
  app.use(
    mfa.session(sessionMiddleware({ secret: sessionSecret, store: stores.sessionStore }), {
      onUnavailable: (req, res, error) => {
        if (wantsPage(req)) sendErrorPage(res, 503);
        else res.status(503).json({ error: error.code, message: error.message });
      },
    }),
  );
  app.use(pages(currentUser));
  // The package's JSON API (it parses its own bodies).
  app.use('/auth/mfa', mfa.router);
  // The app's own JSON API.
  app.use('/api', accountApi({ users, mfa, currentUser, delivery: opts.delivery }));

  app.use(notFound);
  app.use(errorHandler(log));

  return { app, close: () => stores.close() };
}
