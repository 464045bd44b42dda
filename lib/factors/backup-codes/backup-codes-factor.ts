import { keys } from '../../keys.js';
import type { FactorDefinition } from '../factor.js';
import { backupCodeRoutes } from './routes.js';

export const backupCodesFactor: FactorDefinition = {
  name: 'backup_codes',
  path: '/backup-codes',
  routes: backupCodeRoutes,
  has: async (core, userId) => (await core.store.countSet(keys.backupCodes(userId))) > 0,
  remove: (core, userId) => core.store.delete(keys.backupCodes(userId)),
};
