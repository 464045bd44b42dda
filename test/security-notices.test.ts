import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { outboxEmail } from '../lib/delivery/outbox.js';
import type { EmailMessage } from '../lib/index.js';
import { verifyByEmail } from './factors/email-sms/helpers.js';
import { makeWebAuthnApp, newAuthenticator, registerPasskey } from './factors/webauthn/webauthn-test-app.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { enrolTotp, makeTestApp, totpCode } from './helpers/test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

const notices = (outbox: ReturnType<typeof outboxEmail>) =>
  outbox
    .messages()
    .filter((m) => m.subject?.includes('security notice'))
    .map((m) => m.text.split('\n')[0])
    .reverse();

describe('security notices', () => {
  test('every factor change is emailed to the user: added, removed, backup codes regenerated', async () => {
    const email = outboxEmail({ log: false });
    const t = await makeWebAuthnApp(redis.client(), { email });
    const agent = await t.signIn('ada');
    await verifyByEmail(agent, email);
    const { secret } = await enrolTotp(agent, t.clock);
    const { res } = await registerPasskey(agent, newAuthenticator());
    await agent.post('/auth/mfa/backup-codes').send({}).expect(200);
    await agent.delete(`/auth/mfa/webauthn/credentials/${res.body.passkey.id}`).send({}).expect(200);
    t.clock.advance(60_000);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    await agent.delete('/auth/mfa/totp').send({}).expect(200);
    assert.deepEqual(notices(email), [
      'An authenticator app was added to your account as a second factor.',
      'A passkey was added to your account as a second factor.',
      'New backup codes were created for your account; the previous ones no longer work.',
      'A passkey was removed from your account and no longer signs you in.',
      'An authenticator app was removed from your account and no longer signs you in.',
    ]);
    assert.ok(email.messages().every((m) => m.to === 'ada@example.com'));
    const sent = t.events.filter((e) => e.type === 'message_sent' && e.purpose === 'security_notice');
    assert.equal(sent.length, 5);
  });

  test('a failing or hanging sender never fails or delays the change; the failure is an event', async () => {
    for (const failure of ['rejects', 'hangs'] as const) {
      const outbox = outboxEmail({ log: false });
      // Codes go through; notices fail.
      const email = {
        send: (message: EmailMessage) =>
          !message.subject.includes('security notice')
            ? outbox.send(message)
            : failure === 'rejects'
              ? Promise.reject(new Error('provider down'))
              : new Promise<void>(() => {}),
      };
      const t = await makeTestApp(redis.client(), { email, codes: { sendTimeoutMs: 1000 } });
      const agent = await t.signIn('bob');
      await verifyByEmail(agent, outbox);
      const began = Date.now();
      await enrolTotp(agent, t.clock);
      assert.ok(Date.now() - began < 900, 'the answer did not wait for the sender');
      assert.deepEqual((await agent.get('/auth/mfa/').expect(200)).body.factors, [
        'totp',
        'email',
        'backup_codes',
      ]);
      const until = Date.now() + 3000;
      while (!t.events.some((e) => e.type === 'delivery_failed') && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const failed = t.events.find((e) => e.type === 'delivery_failed');
      assert.deepEqual(failed && [failed.purpose, failed.reason], [
        'security_notice',
        failure === 'rejects' ? 'error' : 'timeout',
      ]);
    }
  });

  test('without an email sender there are no notices, only events', async () => {
    const t = await makeTestApp(redis.client());
    const agent = await t.signIn('eve');
    await enrolTotp(agent, t.clock);
    assert.deepEqual(
      t.events.map((e) => e.type),
      ['enrolled'],
    );
  });

  test('a broken notice template is logged; the change still succeeds', async () => {
    const email = outboxEmail({ log: false });
    const t = await makeTestApp(redis.client(), {
      email,
      messages: {
        templates: {
          securityNoticeEmail: {
            subject: () => {
              throw new Error('template bug');
            },
            text: () => '',
          },
        },
      },
    });
    const agent = await t.signIn('fay');
    await verifyByEmail(agent, email);
    const logged: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args.join(' '));
    try {
      await enrolTotp(agent, t.clock);
    } finally {
      console.error = original;
    }
    assert.match(logged.join('\n'), /securityNoticeEmail template failed/);
    assert.equal(email.messages().length, 1, 'only the sign-in code');
  });
});
