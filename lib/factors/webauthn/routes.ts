import type { MfaCore } from '../../core.js';
import type { Routes } from '../../route-table.js';
import { credentialRoutes } from './credential-routes.js';
import { loginRoutes } from './login-routes.js';
import { passkeyRecords } from './passkey-records.js';
import { registrationRoutes } from './registration-routes.js';
import { verificationRoutes } from './verification-routes.js';
import { preloadWebAuthn } from './webauthn-ceremonies.js';

/** Every passkey route under `/webauthn`. */
export function webauthnRoutes(core: MfaCore, router: Routes): void {
  const config = core.config.webauthn;
  // Passkeys off: nothing is mounted, so every /webauthn route falls through to the router's 404.
  if (!config) return;
  preloadWebAuthn();
  const ctx = { core, config, records: passkeyRecords(core.store, core.now) };
  registrationRoutes(ctx, router);
  verificationRoutes(ctx, router);
  credentialRoutes(ctx, router);
  // Passwordless sign-in hands the user to the app: without `onLogin` there is no one to hand it to.
  if (core.config.onLogin) loginRoutes(ctx, core.config.onLogin, router);
}
