import type { Request } from 'express';
import type { Actor, MfaCore } from '../../core.js';
import { maskPhone } from '../../delivery/mask.js';
import { deliver } from './deliver.js';
import { emailAddressOf } from './email-address.js';
import type { NoticeValues } from './messages.js';
import type { MessageRenderer } from './render-message.js';

/**
 * Tells the user by email that a phone number was added or removed, so a change they did not make
 * does not go unnoticed. Not awaited: the answer to the user does not wait on an email provider,
 * and a failure is reported as a `delivery_failed` event, never as a failed change.
 */
export function sendSecurityNotice(
  core: MfaCore,
  render: MessageRenderer,
  req: Request,
  who: Actor,
  change: NoticeValues['change'],
  phone: string,
): void {
  const address = core.config.email ? emailAddressOf(who.user) : undefined;
  if (!address) return;
  let content: ReturnType<MessageRenderer['securityNoticeEmail']>;
  try {
    content = render.securityNoticeEmail(
      { issuer: core.config.issuer, change, phone: maskPhone(phone) },
      req,
      who.user,
    );
  } catch (error) {
    console.error(
      'express-mfa: the securityNoticeEmail template failed',
      error instanceof Error ? error.stack : error,
    );
    return;
  }
  deliver(core, req, who.userId, {
    channel: 'email',
    purpose: 'security_notice',
    message: { to: address, ...content },
  }).catch(() => {});
}
