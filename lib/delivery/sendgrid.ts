import type SendgridMail from '@sendgrid/mail';
import { checkTimeout, DeliveryError, withTimeout } from './delivery-error.js';
import { requirePeer } from './require-peer.js';
import type { EmailSender } from './sender.js';

// An optional peer: without it, importing express-mfa/sendgrid says what to install.
const sendgridMail = requirePeer<typeof SendgridMail>('@sendgrid/mail', 'express-mfa/sendgrid');

/** `@sendgrid/mail`'s MailService (its typings only expose the default instance). */
type MailService = typeof sendgridMail;
const MailServiceClass = (sendgridMail as unknown as { MailService: new () => MailService }).MailService;
/** A `@sendgrid/client` Client, as `MailService.setClient` takes it. */
type SendgridClient = Parameters<MailService['setClient']>[0];

export interface SendgridEmailOptions {
  /** A SendGrid API key (`SG.…`). Omit it when you pass `client`, which carries its own. */
  apiKey?: string;
  /** The verified sender: `'Acme <no-reply@acme.com>'` or `{ email, name }`. */
  from: string | { email: string; name?: string };
  /**
   * A configured `@sendgrid/client` Client, or a `MailService` (such as `@sendgrid/mail`'s default
   * export), used as given and never reconfigured: a base URL, proxy or region set on it keeps working.
   */
  client?: SendgridClient | MailService;
  /** Longest wait for SendGrid, in ms. Default 10 000. */
  timeoutMs?: number;
}

const WHERE = 'sendgridEmail';

/**
 * An `EmailSender` on SendGrid's Mail Send API through `@sendgrid/mail` 8 (an optional peer
 * dependency: install it to use this). Import it from `express-mfa/sendgrid`.
 */
export function sendgridEmail(options: SendgridEmailOptions): EmailSender {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${WHERE} needs options: { apiKey, from }`);
  }
  const { apiKey, from, client } = options;
  const timeoutMs = checkTimeout(options.timeoutMs, WHERE, 10_000);
  if (typeof from === 'string' ? from.trim() === '' : typeof from?.email !== 'string') {
    throw new TypeError(`${WHERE}: \`from\` must be your verified sender, like 'Acme <no-reply@acme.com>'`);
  }
  let mail: MailService;
  if (client !== undefined) {
    if (apiKey !== undefined) {
      throw new TypeError(`${WHERE}: pass \`apiKey\` or \`client\`, not both: a client is used as given`);
    }
    mail = asMailService(client);
  } else {
    if (typeof apiKey !== 'string' || apiKey.trim() === '') {
      throw new TypeError(`${WHERE}: \`apiKey\` is required (or pass a configured \`client\`)`);
    }
    // Our own MailService, so the app's `@sendgrid/mail` singleton keeps whatever it was given.
    mail = new MailServiceClass();
    mail.setApiKey(apiKey);
    mail.setTimeout(timeoutMs);
  }

  return {
    async send(message) {
      const data = {
        to: message.to,
        from,
        subject: message.subject,
        text: message.text,
        ...(message.html === undefined ? {} : { html: message.html }),
      };
      try {
        await withTimeout(mail.send(data), timeoutMs, 'SendGrid');
      } catch (error) {
        throw toDeliveryError(error);
      }
    },
  };
}

function asMailService(client: SendgridClient | MailService): MailService {
  const c = client as unknown as Record<string, unknown>;
  if (typeof c.send === 'function') return client as MailService;
  if (typeof c.request === 'function') {
    const mail = new MailServiceClass();
    mail.setClient(client as SendgridClient); // sets our service's client; the client itself is untouched
    return mail;
  }
  throw new TypeError(
    `${WHERE}: \`client\` must be a @sendgrid/client Client or a @sendgrid/mail MailService`,
  );
}

/** SendGrid's errors carry the request (the message, code included): keep only what is safe to report. */
function toDeliveryError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const { code } = (error ?? {}) as { code?: unknown };
  if (typeof code === 'number')
    return new DeliveryError(`SendGrid refused the email (HTTP ${code})`, 'rejected', code);
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return new DeliveryError('SendGrid did not answer in time', 'timeout');
  }
  return new DeliveryError('SendGrid could not be reached', 'unreachable');
}
