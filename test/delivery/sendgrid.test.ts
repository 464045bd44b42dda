import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import sendgridMail from '@sendgrid/mail';
import { DeliveryError } from '../../lib/delivery/delivery-error.js';
import { sendgridEmail } from '../../lib/delivery/sendgrid.js';
import { type FakeSendgrid, SENDGRID_KEY, startFakeSendgrid } from '../helpers/fake-sendgrid.js';

const MailService = (sendgridMail as unknown as { MailService: new () => typeof sendgridMail }).MailService;
const message = {
  to: 'ada@example.com',
  subject: 'Your code',
  text: 'Your code is 123456',
  html: '<p>123456</p>',
};

describe('sendgridEmail through the real @sendgrid/mail SDK', () => {
  let fake: FakeSendgrid;
  before(async () => {
    fake = await startFakeSendgrid();
  });
  after(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    fake.mode = { kind: 'ok' };
  });

  test('posts the message to the v3 Mail Send API with the API key', async () => {
    const sender = sendgridEmail({ from: 'Acme <no-reply@acme.test>', client: fake.client() });
    await sender.send(message);
    assert.equal(fake.requests.length, 1);
    assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${SENDGRID_KEY}`);
    const [mail] = fake.mails();
    assert.deepEqual(mail!.personalizations[0]!.to, [{ email: 'ada@example.com' }]);
    assert.deepEqual(mail!.from, { email: 'no-reply@acme.test', name: 'Acme' });
    assert.equal(mail!.subject, 'Your code');
    assert.deepEqual(mail!.content, [
      { type: 'text/plain', value: 'Your code is 123456' },
      { type: 'text/html', value: '<p>123456</p>' },
    ]);
  });

  test('uses an injected client or MailService as given, never reconfiguring it', async () => {
    const client = fake.client();
    const before = JSON.stringify({ auth: (client as never as { auth: string }).auth, ...client });
    await sendgridEmail({ from: { email: 'no-reply@acme.test' }, client }).send(message);
    assert.equal(JSON.stringify({ auth: (client as never as { auth: string }).auth, ...client }), before);

    const service = new MailService();
    service.setClient(fake.client());
    await sendgridEmail({ from: 'no-reply@acme.test', client: service }).send({
      ...message,
      html: undefined,
    });
    assert.equal(fake.requests.length, 2, 'both went to the fake server, not to SendGrid');
    assert.deepEqual(fake.mails()[1]!.content, [{ type: 'text/plain', value: 'Your code is 123456' }]);
  });

  for (const status of [400, 401, 429, 500, 503]) {
    test(`HTTP ${status} rejects with a DeliveryError that carries neither the address nor the content`, async () => {
      fake.mode = { kind: 'error', status, body: { errors: [{ message: 'bad ada@example.com 123456' }] } };
      const sender = sendgridEmail({ from: 'no-reply@acme.test', client: fake.client() });
      const error = await sender.send(message).then(
        () => assert.fail('should reject'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof DeliveryError);
      assert.equal(error.reason, 'rejected');
      assert.equal(error.status, status);
      assert.equal(error.cause, undefined);
      const seen = JSON.stringify({ ...error, message: error.message, stack: error.stack });
      assert.ok(!seen.includes('123456') && !seen.includes('ada@'), seen);
    });
  }

  test('a provider that does not answer is a timeout after timeoutMs', async () => {
    fake.mode = { kind: 'hang' };
    const sender = sendgridEmail({ from: 'no-reply@acme.test', client: fake.client(), timeoutMs: 200 });
    const started = Date.now();
    await assert.rejects(
      sender.send(message),
      (e: unknown) => e instanceof DeliveryError && e.reason === 'timeout',
    );
    assert.ok(Date.now() - started < 2000);
  });

  test('an unreachable server is reported as such', async () => {
    const client = fake.client();
    client.setDefaultRequest('baseUrl', 'http://127.0.0.1:1/');
    await assert.rejects(
      sendgridEmail({ from: 'no-reply@acme.test', client }).send(message),
      (e: unknown) => e instanceof DeliveryError && e.reason === 'unreachable',
    );
  });

  test('bad options are TypeErrors that say how to fix them', () => {
    assert.throws(() => sendgridEmail({ from: 'x@acme.test' }), /`apiKey` is required/);
    assert.throws(() => sendgridEmail({ apiKey: 'SG.x', from: '' }), /`from` must be your verified sender/);
    assert.throws(
      () => sendgridEmail({ apiKey: 'SG.x', from: 'x@acme.test', client: fake.client() }),
      /not both/,
    );
    assert.throws(
      () => sendgridEmail({ from: 'x@acme.test', client: {} as never }),
      /must be a @sendgrid\/client Client/,
    );
    assert.throws(() => sendgridEmail({ apiKey: 'SG.x', from: 'x@acme.test', timeoutMs: 0 }), /timeoutMs/);
    assert.equal(typeof sendgridEmail({ apiKey: 'SG.x', from: 'x@acme.test' }).send, 'function');
  });
});
