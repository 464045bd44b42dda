/**
 * What express-mfa hands a sender. Senders are plain objects an app may write itself (any provider,
 * SMTP, a queue); `sendgridEmail`, `twilioSms` and the dev outbox are ready-made ones.
 *
 * `send` resolves once the provider has accepted the message and rejects when it has not: a
 * rejection deletes the code and answers 502 `delivery_failed`. Throw a `DeliveryError` to say why
 * (timeout, rejected, unreachable) in the `delivery_failed` event; never put the message in it.
 */
export interface EmailMessage {
  /** The user's address on file (the request cannot choose it). */
  to: string;
  subject: string;
  text: string;
  /** Built from HTML-escaped values. */
  html?: string;
}

export interface SmsMessage {
  /** An E.164 number, like +14155552671. */
  to: string;
  body: string;
}

export interface EmailSender {
  send(message: EmailMessage): Promise<void>;
}

export interface SmsSender {
  send(message: SmsMessage): Promise<void>;
}
