import type { RequestHandler, Router } from 'express';
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
import { errorHandler, jsonOnly, noStore, notFound } from './http.js';
import type { FactorName } from './keys.js';
import { type MfaOptions, parseOptions } from './options.js';
import { createRequireMfa } from './require-mfa.js';
import { routerDiagnostics } from './router-diagnostics.js';
import { createSessionWrapper } from './session-middleware.js';
import { statusRoute } from './status-route.js';
import { MemoryStore } from './stores/memory-store.js';
import { userIdOf } from './user-id.js';

export interface Mfa {
  /** Mount it: `app.use('/auth/mfa', mfa.router)`, after express-session. */
  router: Router;
  /** The guard: `app.post('/x', mfa.requireMfa(5 * MINUTE), handler)`. Default maxAge 5 minutes. */
  requireMfa: (maxAgeMs?: number) => RequestHandler;
  /** The factors a user has, for the app's own pages and tools. */
  factors: (userId: string | number) => Promise<FactorName[]>;
  /** For the app's own tools: list, remove and reset a user's factors, clear locks. */
  admin: MfaAdmin;
  /**
   * Wraps the session middleware so a session-store failure is a 503 `unavailable` (JSON, or a
   * small page for browsers) for every request instead of express-session's 500:
   * `app.use(mfa.session(session({ ... })))`, before the router and the app's routes.
   */
  session: (middleware: RequestHandler) => RequestHandler;
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
  router.use(routerDiagnostics(config), noStore, jsonOnly);
  router.get('/', statusRoute(core));
  for (const factor of core.definitions) router.use(factor.path, factor.routes(core));
  // Not a factor: recovery replaces factors, it never satisfies the guard.
  router.use('/recovery', recoveryRoutes(core));
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
