import type { FactorDefinition } from '../factor.js';
import { codeKeys, smsRecordKeys } from './code-keys.js';
import { smsRoutes } from './sms-routes.js';

/** SMS codes to a bound phone number. Without an SMS sender nobody has it: codes could not be sent. */
export const smsFactor: FactorDefinition = {
  name: 'sms',
  path: '/sms',
  routes: smsRoutes,
  has: async (core, userId) =>
    core.config.sms !== undefined && (await core.store.get(codeKeys.phone(userId))) !== null,
  remove: (core, userId) => core.store.delete(...smsRecordKeys(userId)),
};
