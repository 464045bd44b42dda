import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { DeliveryError } from '../../lib/delivery/delivery-error.js';
import { twilioSms } from '../../lib/delivery/twilio.js';
import { type FakeTwilio, startFakeTwilio, TWILIO_SID, TWILIO_TOKEN } from '../helpers/fake-twilio.js';

const message = { to: '+14155552671', body: '123456 is your Acme verification code.' };
const SERVICE = `MG${'ab'.repeat(16)}`;

describe('twilioSms through the real twilio SDK', () => {
  let fake: FakeTwilio;
  before(async () => {
    fake = await startFakeTwilio();
  });
  after(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    fake.mode = { kind: 'ok' };
  });

  test('creates a Message with To, From and Body, authenticated as the account', async () => {
    await twilioSms({ from: '+15005550006', client: fake.client() }).send(message);
    assert.equal(fake.requests.length, 1);
    const [request] = fake.requests;
    assert.equal(request!.path, `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`);
    const basic = Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64');
    assert.equal(request!.headers.authorization, `Basic ${basic}`);
    assert.deepEqual(fake.messages(), [{ To: '+14155552671', From: '+15005550006', Body: message.body }]);
  });

  test('a Messaging Service picks the sender', async () => {
    await twilioSms({ messagingServiceSid: SERVICE, client: fake.client() }).send(message);
    assert.deepEqual(fake.messages(), [
      { To: '+14155552671', MessagingServiceSid: SERVICE, Body: message.body },
    ]);
  });

  test('the injected client is used as given: its HTTP client is not replaced', async () => {
    const client = fake.client();
    const http = client.httpClient;
    await twilioSms({ from: '+15005550006', client }).send(message);
    assert.equal(client.httpClient, http);
    assert.equal(fake.requests.length, 1);
  });

  for (const status of [400, 401, 429, 500, 503]) {
    test(`HTTP ${status} rejects with a DeliveryError that carries neither the number nor the body`, async () => {
      fake.mode = {
        kind: 'error',
        status,
        body: { code: 21211, message: "Invalid 'To' Phone Number: +14155552671 (123456)", status },
      };
      const error = await twilioSms({ from: '+15005550006', client: fake.client() })
        .send(message)
        .then(
          () => assert.fail('should reject'),
          (e: unknown) => e,
        );
      assert.ok(error instanceof DeliveryError);
      assert.equal(error.reason, 'rejected');
      assert.equal(error.status, status);
      assert.match(error.message, /HTTP \d{3}, error 21211/);
      const seen = JSON.stringify({ ...error, message: error.message, stack: error.stack });
      assert.ok(!seen.includes('123456') && !seen.includes('4155552671'), seen);
    });
  }

  test('a provider that does not answer is a timeout after timeoutMs', async () => {
    fake.mode = { kind: 'hang' };
    const started = Date.now();
    await assert.rejects(
      twilioSms({ from: '+15005550006', client: fake.client(), timeoutMs: 200 }).send(message),
      (e: unknown) => e instanceof DeliveryError && e.reason === 'timeout',
    );
    assert.ok(Date.now() - started < 2000);
  });

  test('bad options are TypeErrors that say how to fix them', () => {
    const creds = { accountSid: TWILIO_SID, authToken: TWILIO_TOKEN };
    assert.throws(() => twilioSms({ ...creds }), /exactly one of `from`/);
    assert.throws(() => twilioSms({ ...creds, from: '+1500', messagingServiceSid: SERVICE }), /exactly one/);
    assert.throws(() => twilioSms({ ...creds, messagingServiceSid: 'MG1' }), /MG followed by 32 hex/);
    assert.throws(
      () => twilioSms({ accountSid: 'nope', authToken: 'x', from: '+1500' }),
      /`accountSid` is required/,
    );
    assert.throws(() => twilioSms({ accountSid: TWILIO_SID, from: '+1500' }), /`authToken` is required/);
    assert.throws(() => twilioSms({ ...creds, from: '+1500', client: fake.client() }), /not both/);
    assert.throws(() => twilioSms({ from: '+1500', client: {} as never }), /must be a Twilio client/);
    assert.throws(() => twilioSms({ ...creds, from: '+1500', timeoutMs: 1.5 }), /timeoutMs/);
    assert.equal(typeof twilioSms({ ...creds, from: '+15005550006' }).send, 'function');
  });
});
