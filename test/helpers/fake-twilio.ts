import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { type FakeServer, startFakeServer } from './fake-provider.js';

export const TWILIO_SID = `AC${'0123456789abcdef'.repeat(2)}`;
export const TWILIO_TOKEN = 'twilio-test-auth-token';

/** The real SDK's HTTP client, sending every request to `base` instead of Twilio's hosts. */
export class LocalRequestClient extends twilio.RequestClient {
  constructor(private readonly base: string) {
    super();
  }
  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: opts.uri.replace(/^https:\/\/[^/]+/, this.base) });
  }
}

export interface FakeTwilio extends FakeServer {
  /** A real Twilio client whose requests come here. */
  client(accountSid?: string, authToken?: string): twilio.Twilio;
  /** The form fields of the Messages requests received. */
  messages(): Record<string, string>[];
}

/**
 * Speaks Twilio's Messages API: POST /2010-04-01/Accounts/{sid}/Messages.json (form-encoded) with
 * Basic auth answers 201 and the message resource; errors use Twilio's `{ code, message, status }`.
 */
export async function startFakeTwilio(): Promise<FakeTwilio> {
  const server = await startFakeServer((request) => {
    const match = /^\/2010-04-01\/Accounts\/(AC\w+)\/Messages\.json$/.exec(request.path);
    if (request.method !== 'POST' || !match)
      return { status: 404, body: { code: 20404, message: 'Not found', status: 404 } };
    const expected = `Basic ${Buffer.from(`${match[1]}:${TWILIO_TOKEN}`).toString('base64')}`;
    if (request.headers.authorization !== expected) {
      return { status: 401, body: { code: 20003, message: 'Authenticate', status: 401 } };
    }
    const form = Object.fromEntries(new URLSearchParams(request.body));
    return {
      status: 201,
      body: {
        sid: `SM${randomBytes(16).toString('hex')}`,
        account_sid: match[1],
        to: form.To,
        from: form.From ?? null,
        messaging_service_sid: form.MessagingServiceSid ?? null,
        body: form.Body,
        status: 'queued',
      },
    };
  });
  return Object.assign(server, {
    client: (accountSid = TWILIO_SID, authToken = TWILIO_TOKEN) =>
      twilio(accountSid, authToken, { httpClient: new LocalRequestClient(server.url) }),
    messages: () =>
      server.requests
        .filter((r) => r.path.endsWith('/Messages.json'))
        .map((r) => Object.fromEntries(new URLSearchParams(r.body))),
  });
}
