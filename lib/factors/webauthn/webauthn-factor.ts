import type { FactorDefinition } from '../factor.js';
import { passkeyRecords } from './passkey-records.js';
import { webauthnRoutes } from './routes.js';

export const webauthnFactor: FactorDefinition = {
  name: 'webauthn',
  path: '/webauthn',
  routes: webauthnRoutes,
  // With passkeys switched off, stored passkeys cannot be used, so they do not count as a factor.
  has: async (core, userId) =>
    core.config.webauthn !== undefined && (await passkeyRecords(core.store).count(userId)) > 0,
  remove: (core, userId) => passkeyRecords(core.store, core.now).removeAll(userId),
};
