import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Request } from 'express';
import { preferredLocales } from '../../../lib/factors/email-sms/accept-language.js';
import { escapeHtml } from '../../../lib/factors/email-sms/messages.js';
import { createMessageRenderer } from '../../../lib/factors/email-sms/render-message.js';
import { MemoryStore } from '../../../lib/index.js';
import { parseOptions } from '../../../lib/options.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { SECRET } from '../../helpers/test-app.js';
import { lastCode, makeCodeApp } from './helpers.js';

const values = { issuer: 'A&B <Ltd>', code: '123456', expiresInMinutes: 5 };
const request = (acceptLanguage?: string) =>
  ({ headers: acceptLanguage ? { 'accept-language': acceptLanguage } : {} }) as Request;
const renderer = (messages: object = {}) =>
  createMessageRenderer(
    parseOptions({
      issuer: 'Acme',
      store: new MemoryStore(),
      secret: SECRET,
      getUser: () => undefined,
      messages,
    }),
  );

describe('default English messages', () => {
  test('name the issuer and the expiry; HTML gets escaped values, text and subject the raw ones', () => {
    const email = renderer().signInEmail(values, request(), undefined);
    assert.equal(email.subject, 'Your A&B <Ltd> verification code');
    assert.match(email.text, /^Your A&B <Ltd> verification code is: 123456\n/);
    assert.match(email.text, /expires in 5 minutes/);
    assert.ok(email.html?.includes('Your A&amp;B &lt;Ltd&gt; verification code'));
    assert.ok(!email.html?.includes('<Ltd>'));
    assert.ok(!email.subject.includes('123456'), 'no code in a subject: subjects show on lock screens');
    const sms = renderer().signInSms({ ...values, expiresInMinutes: 1 }, request(), undefined);
    assert.equal(sms, '123456 is your A&B <Ltd> verification code. It expires in 1 minute. Do not share it.');
    const notice = renderer().securityNoticeEmail(
      { issuer: 'Acme', change: 'phone_removed', phone: '+*******2671' },
      request(),
      undefined,
    );
    assert.match(notice.text, /\+\*{7}2671 can no longer receive sign-in codes/);
  });
});

describe('overrides', () => {
  const german = {
    signInSms: (v: typeof values) => `${v.code} ist Ihr ${v.issuer}-Code.`,
    signInEmail: {
      subject: () => 'Ihr Code\r\nBcc: x@evil.test',
      text: (v: typeof values) => `Code: ${v.code}`,
    },
  };
  const messages = {
    templates: { signInSms: (v: typeof values) => `Code ${v.code}` },
    locales: { de: german, 'pt-BR': { signInSms: () => 'pt-BR' }, pt: { signInSms: () => 'pt' } },
  };

  test('per app, then per language from user.locale or Accept-Language; English fills the gaps', () => {
    const r = renderer(messages);
    assert.equal(r.signInSms(values, request(), undefined), 'Code 123456');
    assert.equal(
      r.signInSms(values, request('fr;q=0.9, de-AT, en;q=0.5'), undefined),
      '123456 ist Ihr A&B <Ltd>-Code.',
    );
    assert.equal(r.signInSms(values, request('de'), { id: 'u', locale: 'pt-BR' }), 'pt-BR');
    assert.equal(r.signInSms(values, request(), { id: 'u', locale: 'pt-PT' }), 'pt');
    assert.equal(r.signInSms(values, request('fr'), undefined), 'Code 123456');
    // German has no confirmation template: the app's, then English.
    assert.match(r.phoneConfirmationSms(values, request('de'), undefined), /confirm this phone number/);
    const email = r.signInEmail(values, request('de'), undefined);
    assert.equal(email.subject, 'Ihr Code Bcc: x@evil.test', 'a subject stays on one line');
    assert.equal(email.html, undefined);
  });

  test('a `locale` function decides alone', () => {
    const r = renderer({ ...messages, locale: () => 'de' });
    assert.equal(
      r.signInSms(values, request('pt-BR'), { id: 'u', locale: 'pt' }),
      '123456 ist Ihr A&B <Ltd>-Code.',
    );
  });

  test('a template that returns no string is an error, not an empty message', () => {
    const r = renderer({ templates: { signInSms: () => undefined } });
    assert.throws(() => r.signInSms(values, request(), undefined), /signInSms template must return a string/);
  });
});

describe('messages through the routes', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.close());

  test('the email a user gets follows their Accept-Language', async () => {
    const t = await makeCodeApp(redis.client(), {
      messages: {
        locales: { de: { signInEmail: { subject: () => 'Ihr Code', text: (v) => `Code: ${v.code}` } } },
      },
    });
    const agent = await t.signIn('ada');
    await agent.post('/auth/mfa/email/send').set('Accept-Language', 'de-DE,de;q=0.9').send({}).expect(200);
    assert.equal(t.email.messages()[0]!.subject, 'Ihr Code');
    await agent
      .post('/auth/mfa/email/verify')
      .send({ code: lastCode(t.email) })
      .expect(200);
  });
});

test('Accept-Language: by q, then order; no wildcards, no q=0, no junk', () => {
  assert.deepEqual(preferredLocales('da, en-GB;q=0.8, en;q=0.7, *;q=0.5, fr;q=0, x y'), [
    'da',
    'en-GB',
    'en',
  ]);
  assert.deepEqual(preferredLocales('en;q=0.5,de'), ['de', 'en']);
  assert.deepEqual(preferredLocales(undefined), []);
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});
