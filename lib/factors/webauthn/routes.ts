import type { Router } from 'express';
import { asyncRouter } from '../../async-router.js';
import type { MfaCore } from '../../core.js';
import { credentialRoutes } from './credential-routes.js';
import { loginRoutes } from './login-routes.js';
import { passkeyRecords } from './passkey-records.js';
import { registrationRoutes } from './registration-routes.js';
import { verificationRoutes } from './verification-routes.js';
import { preloadWebAuthn } from './webauthn-ceremonies.js';

/** Every passkey route under `/webauthn`. */
export function webauthnRoutes(core: MfaCore): Router {
  const router = asyncRouter();
  const config = core.config.webauthn;
  // Passkeys off: nothing is mounted, so every /webauthn route falls through to the router's 404.
  if (!config) return router;
  preloadWebAuthn();
  const ctx = { core, config, records: passkeyRecords(core.store, core.now) };
  router.use(registrationRoutes(ctx), verificationRoutes(ctx), credentialRoutes(ctx));
  // Passwordless sign-in hands the user to the app: without `onLogin` there is no one to hand it to.
  if (core.config.onLogin) router.use(loginRoutes(ctx, core.config.onLogin));
  return router;
}
