import type { Request } from 'express';
import type { MfaCore } from '../core.js';
import type { MessagePurpose } from '../events.js';
import { DeliveryError, withTimeout } from './delivery-error.js';
import { maskEmail, maskPhone } from './mask.js';
import type { EmailMessage, SmsMessage } from './sender.js';

export type Delivery =
  | { channel: 'email'; purpose: MessagePurpose; message: EmailMessage }
  | { channel: 'sms'; purpose: MessagePurpose; message: SmsMessage };

/**
 * Hands one message to the configured sender, bounded by `codes.sendTimeoutMs` whatever the sender
 * does, and reports it as `message_sent` or `delivery_failed` with a masked destination. Rejects
 * with a DeliveryError; the sender's own error is not passed on (it may quote the message).
 */
export async function deliver(
  core: MfaCore,
  req: Request,
  userId: string,
  delivery: Delivery,
): Promise<void> {
  const { channel, purpose, message } = delivery;
  const to = channel === 'email' ? maskEmail(message.to) : maskPhone(message.to);
  try {
    const sending = Promise.resolve().then(() =>
      delivery.channel === 'email'
        ? core.config.email!.send(delivery.message)
        : core.config.sms!.send(delivery.message),
    );
    await withTimeout(sending, core.config.codes.sendTimeoutMs, `The ${channel} sender`);
  } catch (error) {
    const failure = error instanceof DeliveryError ? error : undefined;
    core.emit(req, userId, {
      type: 'delivery_failed',
      factor: channel,
      purpose,
      to,
      reason: failure?.reason ?? 'error',
      ...(failure?.status === undefined ? {} : { status: failure.status }),
    });
    throw failure ?? new DeliveryError(`The ${channel} sender failed`, 'unreachable');
  }
  core.emit(req, userId, { type: 'message_sent', factor: channel, purpose, to });
}
