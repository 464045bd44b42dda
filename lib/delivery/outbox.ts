import { maskEmail, maskPhone } from './mask.js';
import type { EmailSender, SmsSender } from './sender.js';

/** A message the outbox kept instead of sending it. */
export interface OutboxMessage {
  /** Increasing within one outbox. */
  id: number;
  channel: 'email' | 'sms';
  to: string;
  /** Email only. */
  subject?: string;
  /** The email's text, or the SMS body. */
  text: string;
  /** Email only, when the template has one. */
  html?: string;
  /** When it was "sent" (ms). */
  at: number;
}

export interface OutboxOptions {
  /** Messages kept, newest first; older ones are dropped. Default 100. */
  max?: number;
  /** Where the one line per message goes (default console.log); `false` for silence. */
  log?: ((line: string) => void) | false;
  /** Clock for `at`, in ms (default Date.now). */
  now?: () => number;
}

/** A sender that keeps what it is given, for development and demos. */
export interface Outbox {
  /** Kept messages, newest first (copies). */
  messages(): OutboxMessage[];
  clear(): void;
}

function createOutbox(channel: 'email' | 'sms', options: OutboxOptions) {
  const max = options.max ?? 100;
  if (!Number.isInteger(max) || max < 1)
    throw new TypeError(`outbox \`max\` must be a whole number >= 1, got ${max}`);
  const log = options.log === undefined ? (line: string) => console.log(line) : options.log;
  if (log !== false && typeof log !== 'function')
    throw new TypeError('outbox `log` must be a function or false');
  const now = options.now ?? Date.now;
  let kept: OutboxMessage[] = [];
  let nextId = 1;

  function keep(message: Omit<OutboxMessage, 'id' | 'at' | 'channel'>): void {
    const entry: OutboxMessage = { id: nextId++, channel, at: now(), ...message };
    kept = [entry, ...kept].slice(0, max);
    if (!log) return;
    // In production the line names a masked recipient only: message content carries codes.
    if (process.env.NODE_ENV === 'production') {
      const to = channel === 'email' ? maskEmail(message.to) : maskPhone(message.to);
      log(`express-mfa outbox: ${channel} to ${to} kept (content not logged in production)`);
    } else {
      const content = channel === 'email' ? `${message.subject} | ${message.text}` : message.text;
      log(`express-mfa outbox: ${channel} to ${message.to}: ${content.replace(/\s+/g, ' ').trim()}`);
    }
  }
  const view: Outbox = {
    messages: () => kept.map((m) => ({ ...m })),
    clear: () => {
      kept = [];
    },
  };
  return { keep, view };
}

/**
 * An `EmailSender` that sends nothing: it keeps the last messages in memory for a dev page and logs
 * a line per message. For development only; it is not shared between processes.
 */
export function outboxEmail(options: OutboxOptions = {}): EmailSender & Outbox {
  const { keep, view } = createOutbox('email', options);
  return {
    ...view,
    async send(message) {
      keep({
        to: message.to,
        subject: message.subject,
        text: message.text,
        ...(message.html === undefined ? {} : { html: message.html }),
      });
    },
  };
}

/** An `SmsSender` that keeps messages instead of sending them; see `outboxEmail`. */
export function outboxSms(options: OutboxOptions = {}): SmsSender & Outbox {
  const { keep, view } = createOutbox('sms', options);
  return {
    ...view,
    async send(message) {
      keep({ to: message.to, text: message.body });
    },
  };
}
