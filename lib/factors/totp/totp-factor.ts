import { keys } from '../../keys.js';
import type { FactorDefinition } from '../factor.js';
import { totpRoutes } from './routes.js';

export const totpFactor: FactorDefinition = {
  name: 'totp',
  path: '/totp',
  routes: totpRoutes,
  has: async (core, userId) => (await core.store.get(keys.totp(userId))) !== null,
  remove: (core, userId) =>
    core.store.delete(keys.totp(userId), keys.totpPending(userId), keys.totpLastStep(userId)),
};
