import type { Request } from 'express';
import { duration, fail, integer, optionalObject } from '../../option-validators.js';
import type { AppUser } from '../../options.js';
import { MINUTE } from '../../time.js';

export type FindUserByEmail = (
  email: string,
) => Promise<AppUser | undefined | null> | AppUser | undefined | null;

/**
 * Ends every session of a user (see the `endSessions` option). `req` is the recovering request, e.g.
 * for `req.sessionStore`; its own session is replaced by the recovery session right after.
 */
export type EndSessions = (userId: string, req: Request) => void | Promise<void>;

export interface RecoveryOptions {
  /** How long an emailed recovery code works (ms). Default 15 minutes. */
  codeTtlMs?: number;
  /** How long the limited recovery session may enrol new factors (ms). Default 15 minutes. */
  sessionTtlMs?: number;
  /** Recovery emails per account within an hour; past it requests are answered alike but send nothing. Default 5. */
  maxRequestsPerAccountPerHour?: number;
  /** `/recovery/start` requests per client address (`req.ip`) within an hour; past it 429. Default 10. */
  maxRequestsPerClientPerHour?: number;
}

export interface RecoveryConfig extends Required<RecoveryOptions> {
  findUserByEmail: FindUserByEmail;
  endSessions: EndSessions | undefined;
}

const RECOVERY_KEYS = [
  'codeTtlMs',
  'sessionTtlMs',
  'maxRequestsPerAccountPerHour',
  'maxRequestsPerClientPerHour',
];

/**
 * The recovery part of `parseOptions`. Recovery is on when `findUserByEmail` is given; it emails the
 * code, so it needs an email sender too.
 */
export function parseRecoveryOptions(
  o: Record<string, unknown>,
  hasEmail: boolean,
): RecoveryConfig | undefined {
  if (o.findUserByEmail === undefined) {
    if (o.recovery !== undefined || o.endSessions !== undefined) {
      fail(
        `\`${o.recovery !== undefined ? 'recovery' : 'endSessions'}\` is for account recovery, which \`findUserByEmail\` turns on: set it too.`,
      );
    }
    return undefined;
  }
  if (typeof o.findUserByEmail !== 'function') {
    fail('`findUserByEmail` must be a function, like (email) => users.findByEmail(email).');
  }
  if (!hasEmail) {
    fail(
      '`findUserByEmail` turns on account recovery, which emails a recovery code: set `email` to an email sender too (sendgridEmail(...), outboxEmail() or your own).',
    );
  }
  if (o.endSessions !== undefined && typeof o.endSessions !== 'function') {
    fail('`endSessions` must be a function, like (userId) => sessions.destroyAllOf(userId).');
  }
  const r = optionalObject(o.recovery, 'recovery', RECOVERY_KEYS);
  return {
    findUserByEmail: o.findUserByEmail as FindUserByEmail,
    endSessions: o.endSessions as EndSessions | undefined,
    codeTtlMs: duration(r.codeTtlMs, 'recovery.codeTtlMs', 15 * MINUTE),
    sessionTtlMs: duration(r.sessionTtlMs, 'recovery.sessionTtlMs', 15 * MINUTE),
    maxRequestsPerAccountPerHour: integer(
      r.maxRequestsPerAccountPerHour,
      'recovery.maxRequestsPerAccountPerHour',
      5,
      1,
      1000,
    ),
    maxRequestsPerClientPerHour: integer(
      r.maxRequestsPerClientPerHour,
      'recovery.maxRequestsPerClientPerHour',
      10,
      1,
      100_000,
    ),
  };
}
