import type { FactorDefinition } from '../factor.js';
import { allCodeKeys } from './code-keys.js';
import { emailAddressOf } from './email-address.js';
import { emailRoutes } from './email-routes.js';

/**
 * Email, the implicit factor: with an email sender configured, every user with an address on file
 * has it. It satisfies the guard and counts as an existing factor (so adding another needs a fresh
 * MFA), but it is never enrolled and never brings backup codes.
 */
export const emailFactor: FactorDefinition = {
  name: 'email',
  path: '/email',
  routes: emailRoutes,
  has: async (core, _userId, user) => core.config.email !== undefined && emailAddressOf(user) !== undefined,
  // The address belongs to the app; only our codes are ours to delete.
  remove: (core, userId) => core.store.delete(...allCodeKeys(userId, 'email')),
};
