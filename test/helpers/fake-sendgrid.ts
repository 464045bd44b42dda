import sendgridClient from '@sendgrid/client';
import { type FakeServer, startFakeServer } from './fake-provider.js';

/** @sendgrid/client's Client class (its typings only expose the default instance). */
type Client = typeof sendgridClient;
const ClientClass = (sendgridClient as unknown as { Client: new () => Client }).Client;

export const SENDGRID_KEY = 'SG.test-key.for-the-fake-server';

export interface FakeSendgrid extends FakeServer {
  /** A real @sendgrid/client Client with an API key, pointed at this server. */
  client(apiKey?: string): Client;
  /** The JSON bodies of the Mail Send requests received. */
  mails(): SendgridMail[];
}

/** The parts of a v3 Mail Send body the tests look at. */
export interface SendgridMail {
  personalizations: { to: { email: string }[] }[];
  from: { email: string; name?: string };
  subject: string;
  content: { type: string; value: string }[];
}

/**
 * Speaks SendGrid's v3 Mail Send API: POST /v3/mail/send with a Bearer key answers 202 and no body,
 * anything else 4xx with SendGrid's error shape.
 */
export async function startFakeSendgrid(): Promise<FakeSendgrid> {
  const server = await startFakeServer((request) => {
    if (request.method !== 'POST' || request.path !== '/v3/mail/send') {
      return { status: 404, body: { errors: [{ message: 'not found' }] } };
    }
    if (!request.headers.authorization?.startsWith('Bearer SG.')) {
      return { status: 401, body: { errors: [{ message: 'The provided authorization grant is invalid.' }] } };
    }
    return { status: 202 };
  });
  return Object.assign(server, {
    client(apiKey = SENDGRID_KEY) {
      const client = new ClientClass();
      client.setApiKey(apiKey);
      // After setApiKey, which resets the base URL to SendGrid's.
      client.setDefaultRequest('baseUrl', `${server.url}/`);
      return client;
    },
    mails: () =>
      server.requests
        .filter((r) => r.path === '/v3/mail/send')
        .map((r) => JSON.parse(r.body) as SendgridMail),
  });
}
