import type { Request } from 'express';
import type { MfaCore } from './core.js';
import { deliver } from './delivery/deliver.js';
import type { MfaEventInput } from './events.js';
import { emailAddressOf } from './factors/email-sms/email-address.js';
import type { NoticeValues } from './factors/email-sms/messages.js';
import type { MessageRenderer } from './factors/email-sms/render-message.js';
import type { MfaUser } from './options.js';

export type Notice = Omit<NoticeValues, 'issuer'>;

/**
 * The security notice an event calls for, if any: every change to how the account signs in
 * (a factor added or removed, new backup codes, a reset, a recovery). Notices follow events rather
 * than being sent by each route, so no route (present or future) can forget one.
 */
export function noticeFor(event: MfaEventInput): Notice | undefined {
  switch (event.type) {
    case 'enrolled':
      // Email is never enrolled; backup codes arrive with a first factor, whose notice covers them.
      if (event.factor === 'email' || event.factor === 'backup_codes') return undefined;
      if (event.factor === 'sms' && event.to) return { change: 'phone_added', phone: event.to };
      return { change: 'factor_added', factor: event.factor };
    case 'factor_removed':
      if (event.factor === 'sms' && event.to) return { change: 'phone_removed', phone: event.to };
      return { change: 'factor_removed', factor: event.factor };
    case 'backup_codes_regenerated':
      return { change: 'backup_codes_regenerated' };
    case 'factors_reset':
      return event.removed.length > 0 ? { change: 'factors_reset' } : undefined;
    case 'recovery_completed':
      return { change: 'recovery_used' };
    default:
      return undefined;
  }
}

/**
 * Emails `notice` to the user's address on file, when there is an email sender and an address.
 * Not awaited: the answer to the user never waits on an email provider, and a failure is reported as
 * a `delivery_failed` event (or, for a broken template, logged), never as a failed change.
 */
export function sendSecurityNotice(
  core: MfaCore,
  render: MessageRenderer,
  req: Request,
  userId: string,
  user: MfaUser | undefined,
  notice: Notice,
): void {
  const address = core.config.email ? emailAddressOf(user) : undefined;
  if (!address) return;
  let content: ReturnType<MessageRenderer['securityNoticeEmail']>;
  try {
    content = render.securityNoticeEmail({ issuer: core.config.issuer, ...notice }, req, user);
  } catch (error) {
    core.config.logger.error(
      'express-mfa: the securityNoticeEmail template failed',
      error instanceof Error ? (error.stack ?? error.message) : String(error),
    );
    return;
  }
  deliver(core, req, userId, {
    channel: 'email',
    purpose: 'security_notice',
    message: { to: address, ...content },
  }).catch(() => {});
}
