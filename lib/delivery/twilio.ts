import type Twilio from 'twilio';
import { checkTimeout, DeliveryError, withTimeout } from './delivery-error.js';
import { requirePeer } from './require-peer.js';
import type { SmsSender } from './sender.js';

// An optional peer: without it, importing express-mfa/twilio says what to install.
const twilio = requirePeer<typeof Twilio>('twilio', 'express-mfa/twilio');

/** What the adapter uses of a Twilio client: `twilio(accountSid, authToken, opts)` returns one. */
export interface TwilioMessagesClient {
  messages: {
    create(params: {
      to: string;
      body: string;
      from?: string;
      messagingServiceSid?: string;
    }): Promise<unknown>;
  };
}

export interface TwilioSmsOptions {
  /** `AC…`. Omit it (and `authToken`) when you pass `client`. */
  accountSid?: string;
  authToken?: string;
  /** The sending number (E.164) or alphanumeric sender id. Give this or `messagingServiceSid`. */
  from?: string;
  /** A Messaging Service (`MG…`), which picks the sender. Give this or `from`. */
  messagingServiceSid?: string;
  /** A configured Twilio client, used as given and never reconfigured (its httpClient, edge, region stay). */
  client?: TwilioMessagesClient;
  /** Longest wait for Twilio, in ms. Default 10 000. */
  timeoutMs?: number;
}

const WHERE = 'twilioSms';

/**
 * An `SmsSender` on Twilio's Messages API through `twilio` 6 (an optional peer dependency:
 * install it to use this). Import it from `express-mfa/twilio`.
 */
export function twilioSms(options: TwilioSmsOptions): SmsSender {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${WHERE} needs options: { accountSid, authToken, from }`);
  }
  const { accountSid, authToken, from, messagingServiceSid, client } = options;
  const timeoutMs = checkTimeout(options.timeoutMs, WHERE, 10_000);
  if ((from === undefined) === (messagingServiceSid === undefined)) {
    throw new TypeError(
      `${WHERE}: give exactly one of \`from\` (a number like +14155552671) or \`messagingServiceSid\``,
    );
  }
  if (from !== undefined && (typeof from !== 'string' || from.trim() === '')) {
    throw new TypeError(`${WHERE}: \`from\` must be a sending number like +14155552671`);
  }
  if (messagingServiceSid !== undefined && !/^MG[0-9a-fA-F]{32}$/.test(String(messagingServiceSid))) {
    throw new TypeError(`${WHERE}: \`messagingServiceSid\` looks like MG followed by 32 hex digits`);
  }
  let api: TwilioMessagesClient;
  if (client !== undefined) {
    if (accountSid !== undefined || authToken !== undefined) {
      throw new TypeError(`${WHERE}: pass credentials or \`client\`, not both: a client is used as given`);
    }
    if (typeof client?.messages?.create !== 'function') {
      throw new TypeError(`${WHERE}: \`client\` must be a Twilio client, like twilio(accountSid, authToken)`);
    }
    api = client;
  } else {
    if (typeof accountSid !== 'string' || !/^AC[0-9a-fA-F]{32}$/.test(accountSid)) {
      throw new TypeError(
        `${WHERE}: \`accountSid\` is required: AC followed by 32 hex digits (or pass \`client\`)`,
      );
    }
    if (typeof authToken !== 'string' || authToken === '') {
      throw new TypeError(`${WHERE}: \`authToken\` is required (or pass \`client\`)`);
    }
    // No automatic retries: a user waits on this request, and a retried send could deliver twice.
    api = twilio(accountSid, authToken, { timeout: timeoutMs, autoRetry: false });
  }
  const sender = from === undefined ? { messagingServiceSid: messagingServiceSid! } : { from };

  return {
    async send(message) {
      try {
        await withTimeout(
          api.messages.create({ to: message.to, body: message.body, ...sender }),
          timeoutMs,
          'Twilio',
        );
      } catch (error) {
        throw toDeliveryError(error);
      }
    },
  };
}

/** Twilio's errors may quote the request: keep only the status and Twilio's numeric error code. */
function toDeliveryError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const { status, code } = (error ?? {}) as { status?: unknown; code?: unknown };
  if (typeof status === 'number') {
    const detail = typeof code === 'number' ? `, error ${code}` : '';
    return new DeliveryError(`Twilio refused the message (HTTP ${status}${detail})`, 'rejected', status);
  }
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT')
    return new DeliveryError('Twilio did not answer in time', 'timeout');
  return new DeliveryError('Twilio could not be reached', 'unreachable');
}
