import express, { type Router } from 'express';
import { type Outbox, outboxEmail, outboxSms } from '../lib/delivery/outbox.js';
import type { EmailSender, SmsSender } from '../lib/index.js';

/** How the example app sends codes: real providers when configured, else the dev outbox. */
export interface ExampleDelivery {
  email?: EmailSender;
  sms?: SmsSender;
  /** The outboxes in use, for the /dev/outbox page. */
  outboxes: Outbox[];
}

const PUBLIC_DIR = new URL('./public/', import.meta.url).pathname;

/**
 * SendGrid with SENDGRID_API_KEY + SENDGRID_FROM, Twilio with TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN +
 * TWILIO_FROM (a number, or a Messaging Service MG… sid); otherwise the in-memory outbox, so a
 * newcomer can try the flows without any account. The adapters are imported only when used: their
 * SDKs are optional dependencies. In production there is no outbox: a channel without keys is off.
 */
export async function deliveryFromEnv(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<ExampleDelivery> {
  const delivery: ExampleDelivery = { outboxes: [] };
  const production = env.NODE_ENV === 'production';
  const incomplete = (names: string[]) => {
    const set = names.filter((n) => env[n]);
    if (set.length > 0 && set.length < names.length) log(`Set all of ${names.join(', ')} to send for real.`);
    return set.length < names.length;
  };

  if (!incomplete(['SENDGRID_API_KEY', 'SENDGRID_FROM'])) {
    const { sendgridEmail } = await import('../lib/delivery/sendgrid.js');
    delivery.email = sendgridEmail({ apiKey: env.SENDGRID_API_KEY!, from: env.SENDGRID_FROM! });
    log(`Email codes are sent with SendGrid from ${env.SENDGRID_FROM}.`);
  } else if (!production) {
    const outbox = outboxEmail({ log });
    delivery.email = outbox;
    delivery.outboxes.push(outbox);
  }

  if (!incomplete(['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'])) {
    const { twilioSms } = await import('../lib/delivery/twilio.js');
    const from = env.TWILIO_FROM!;
    delivery.sms = twilioSms({
      accountSid: env.TWILIO_ACCOUNT_SID!,
      authToken: env.TWILIO_AUTH_TOKEN!,
      ...(from.startsWith('MG') ? { messagingServiceSid: from } : { from }),
    });
    log(`SMS codes are sent with Twilio from ${from}.`);
  } else if (!production) {
    const outbox = outboxSms({ log });
    delivery.sms = outbox;
    delivery.outboxes.push(outbox);
  }

  if (delivery.outboxes.length > 0) {
    log('Codes without provider keys go to the dev outbox: open /dev/outbox to read them.');
  } else if (production && (!delivery.email || !delivery.sms)) {
    log('Email or SMS codes are off: set the provider keys (see README) to turn them on.');
  }
  return delivery;
}

/**
 * `/dev/outbox`: every message the outboxes kept, for every user. A development page only; it
 * exists only while an outbox is in use, which is never in production.
 */
export function devOutboxRouter(outboxes: Outbox[]): Router {
  const router = express.Router();
  router.get('/dev/outbox', (_req, res) => {
    res.set('Cache-Control', 'no-store');
    res.sendFile(`${PUBLIC_DIR}outbox.html`);
  });
  router.get('/dev/outbox.json', (_req, res) => {
    const messages = outboxes.flatMap((o) => o.messages()).sort((a, b) => b.at - a.at || b.id - a.id);
    res.set('Cache-Control', 'no-store');
    res.json({ messages });
  });
  return router;
}
