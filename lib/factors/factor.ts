import type { MfaCore } from '../core.js';
import type { FactorName } from '../keys.js';
import type { MfaUser } from '../options.js';
import type { Routes } from '../route-table.js';

/**
 * What a factor folder gives the core: its routes and how to tell whether a user has it. The core
 * lists factors through these, so factor folders never need to know about each other.
 */
export interface FactorDefinition {
  name: FactorName;
  /** Where its routes go under the router, e.g. '/totp'. */
  path: string;
  /** Adds its routes, their paths relative to `path` (`routes` puts them under it). */
  routes(core: MfaCore, routes: Routes): void;
  /** Whether the user has this factor now. `user` is absent in a recovery session. */
  has(core: MfaCore, userId: string, user: MfaUser | undefined): Promise<boolean>;
  /** Deletes every record of this factor for the user (factor removal, admin reset, recovery). */
  remove(core: MfaCore, userId: string): Promise<void>;
}
