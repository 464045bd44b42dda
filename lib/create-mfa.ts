import type { Request, RequestHandler, Response, Router } from 'express';
import { createAdmin, type MfaAdmin } from './admin.js';
import { asyncRouter } from './async-router.js';
import { createCore } from './core.js';
import { backupCodesFactor } from './factors/backup-codes/backup-codes-factor.js';
import { emailFactor } from './factors/email-sms/email-factor.js';
import { smsFactor } from './factors/email-sms/sms-factor.js';
import type { FactorDefinition } from './factors/factor.js';
import { recoveryRoutes } from './factors/recovery/recovery-routes.js';
import { totpFactor } from './factors/totp/totp-factor.js';
import { webauthnFactor } from './factors/webauthn/webauthn-factor.js';
import { bindFingerprint, clientFingerprint } from './guard/client-fingerprint.js';
import type { GuardOptions } from './guard/guard-options.js';
import { returnToOf } from './guard/return-to.js';
import { errorHandler, jsonOnly, noStore, notFound } from './http.js';
import type { FactorName } from './keys.js';
import { type AppUser, type MfaOptions, parseOptions } from './options.js';
import { createRequireMfa } from './require-mfa.js';
import { routeTable } from './route-table.js';
import { routerDiagnostics } from './router-diagnostics.js';
import { createSessionWrapper, type SessionWrapperOptions } from './session-middleware.js';
import { createSignIn, type SignInResult } from './sign-in/sign-in.js';
import { statusRoute } from './status-route.js';
import { MemoryStore } from './stores/memory-store.js';
import { trustedDeviceRoutes } from './trusted-devices/trusted-device-routes.js';
import { userIdOf } from './user-id.js';

export interface Mfa {
  /** Mount it: `app.use('/auth/mfa', mfa.router)`, after express-session. */
  router: Router;
  /**
   * Call from your password route once the password is right: regenerates the session, then signs the
   * user in through `onLogin` (`signed_in`), or leaves the session waiting for a second factor
   * (`mfa_required`) or for a first one (`enrol_required`). See "Sign-in with a second factor".
   */
  signIn: (req: Request, res: Response, user: AppUser) => Promise<SignInResult>;
  /**
   * The guard: `app.post('/x', mfa.requireMfa(5 * MINUTE), handler)`. Default maxAge 5 minutes;
   * options `methods`, `sameClient`, `risk`, `onRequired` (see `GuardOptions`).
   */
  requireMfa: (maxAgeMs?: number, options?: GuardOptions) => RequestHandler;
  /**
   * Where a page goes back to after verifying: the request's `returnTo` (query, else JSON body) if it
   * is a path on this site, else `'/'`. Never `//host`, a scheme, a backslash or an encoded trick.
   */
  returnTo: (req: Request) => string;
  /** The factors a user has, for the app's own pages and tools. */
  factors: (userId: string | number) => Promise<FactorName[]>;
  /** For the app's own tools: list, remove and reset a user's factors, clear locks. */
  admin: MfaAdmin;
  /**
   * Wraps the session middleware so a session-store failure is a 503 `unavailable` (JSON, or a
   * small page for browsers) for every request instead of express-session's 500:
   * `app.use(mfa.session(session({ ... })))`, before the router and the app's routes.
   */
  session: (middleware: RequestHandler, options?: SessionWrapperOptions) => RequestHandler;
}

/** Every factor the router serves, strongest first: the order `factors` lists them in. */
function factorDefinitions(): FactorDefinition[] {
  return [totpFactor, webauthnFactor, smsFactor, emailFactor, backupCodesFactor];
}

export function createMfa(options: MfaOptions): Mfa {
  const config = parseOptions(options);
  if (process.env.NODE_ENV === 'production' && config.store instanceof MemoryStore) {
    config.logger.warn(
      'express-mfa: MemoryStore under NODE_ENV=production keeps MFA records in this process only (lost on restart, not shared between instances): use RedisStore.',
    );
  }
  const core = createCore(config, factorDefinitions());
  const router = asyncRouter();
  const fingerprint = clientFingerprint(core.keyring);
  // What every route needs, in one layer: no caching, the client's fingerprint keyed with this
  // instance's secret (what verifications record for sameClient), and JSON bodies only.
  router.use(
    routerDiagnostics(config, (req, res, next) => {
      noStore(res);
      bindFingerprint(req, fingerprint);
      jsonOnly(req, res, next);
    }),
  );
  router.get('/', statusRoute(core));
  // Every route on this one router (see routeTable): no nested router to pass on the way to a verify.
  const table = routeTable(router);
  for (const factor of core.definitions) factor.routes(core, table.at(factor.path));
  // Not a factor: recovery replaces factors, it never satisfies the guard.
  recoveryRoutes(core, table.at('/recovery'));
  trustedDeviceRoutes(core, table.at('/trusted-devices'));
  table.answerOptions();
  router.use(notFound);
  router.use(
    errorHandler((error) => {
      // The client gets no detail; the operator needs it. Our errors never carry secrets or codes.
      // Only the stack: client libraries attach command arguments (ciphertexts, hashes) to their errors.
      config.logger.error(
        'express-mfa: unexpected error',
        error instanceof Error ? (error.stack ?? error.message) : String(error),
      );
    }),
  );
  return {
    router,
    requireMfa: createRequireMfa(core),
    signIn: createSignIn(core),
    returnTo: returnToOf,
    factors: async (userId) => {
      const id = userIdOf(userId);
      if (id === undefined) {
        throw new TypeError('mfa.factors(userId) takes a user id: a non-empty string or a whole number');
      }
      return core.factors(id);
    },
    admin: createAdmin(core),
    session: createSessionWrapper(config),
  };
}
