import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskEmail, maskPhone } from '../../../lib/delivery/mask.js';
import { outboxEmail, outboxSms } from '../../../lib/delivery/outbox.js';
import { normalizeCode } from '../../../lib/factors/email-sms/one-time-code.js';
import { createMfa, MemoryStore, MfaOptionsError } from '../../../lib/index.js';
import { parseOptions } from '../../../lib/options.js';
import { SECRET } from '../../helpers/test-app.js';

const base = () => ({ issuer: 'Acme', store: new MemoryStore(), secret: SECRET, getUser: () => undefined });

function rejects(options: Record<string, unknown>, pattern: RegExp) {
  assert.throws(
    () => createMfa(options as never),
    (error: unknown) => error instanceof MfaOptionsError && pattern.test(error.message),
    String(pattern),
  );
}

test('defaults: off without senders; 6 digits, 5 minutes, 5 tries, 30 s cooldown, 10 an hour, 15 s send timeout', () => {
  const config = parseOptions(base());
  assert.equal(config.email, undefined);
  assert.equal(config.sms, undefined);
  assert.deepEqual(config.codes, {
    length: 6,
    ttlMs: 5 * 60_000,
    maxTries: 5,
    resendCooldownMs: 30_000,
    maxSendsPerHour: 10,
    maxSendsPerDestinationPerHour: 10,
    sendTimeoutMs: 15_000,
  });
  assert.equal(config.phone.allowedCountries, undefined);
  const email = outboxEmail({ log: false });
  const withSenders = parseOptions({
    ...base(),
    email,
    sms: outboxSms({ log: false }),
    phone: { allowedCountries: ['us'] },
  });
  assert.equal(withSenders.email, email);
  assert.deepEqual(withSenders.phone.allowedCountries, ['US']);
});

test('bad options say how to fix them', () => {
  rejects(
    { ...base(), email: 'sendgrid' },
    /`email` must be a sender: an object with send\(\{ to, subject, text, html \}\), like sendgridEmail/,
  );
  rejects({ ...base(), sms: { post() {} } }, /`sms` must be a sender.*twilioSms/);
  rejects({ ...base(), codes: { lenght: 8 } }, /unknown option `codes\.lenght`.*Did you mean `length`/);
  rejects({ ...base(), codes: { length: 4 } }, /`codes\.length` must be a whole number from 6 to 10/);
  rejects({ ...base(), codes: { ttlMs: 5 } }, /`codes\.ttlMs`.*did you mean 5 \* MINUTE/);
  rejects({ ...base(), codes: { resendCooldownMs: 0 } }, /`codes\.resendCooldownMs`/);
  rejects({ ...base(), codes: { maxSendsPerHour: 0 } }, /`codes\.maxSendsPerHour`/);
  rejects({ ...base(), phone: { allowedCountries: 'US' } }, /non-empty list of country codes/);
  rejects(
    { ...base(), phone: { allowedCountries: ['USA'] } },
    /"USA", which is not an ISO 3166-1 alpha-2 code/,
  );
  rejects({ ...base(), phone: { countries: ['US'] } }, /unknown option `phone\.countries`/);
  rejects({ ...base(), messages: { templates: { signInSMS: () => '' } } }, /Did you mean `signInSms`/);
  rejects(
    { ...base(), messages: { templates: { signInSms: 'Your code' } } },
    /`messages\.templates\.signInSms` must be a function/,
  );
  rejects(
    { ...base(), messages: { templates: { signInEmail: { subject: () => 's' } } } },
    /signInEmail\.text` must be a function/,
  );
  rejects({ ...base(), messages: { locales: { 'not a tag': {} } } }, /language tags like 'de'/);
  rejects({ ...base(), messages: { locale: 'de' } }, /`messages\.locale` must be a function/);
  rejects({ ...base(), emails: {} }, /Did you mean `email`/);
});

test('codes are digits once spaces and dashes are gone; destinations are masked', () => {
  assert.equal(normalizeCode(' 123-456 ', 6), '123456');
  for (const input of ['12345', '1234567', 'abcdef', '١٢٣٤٥٦', '12 34 5x'])
    assert.equal(normalizeCode(input, 6), null);
  assert.equal(maskEmail('ada@example.com'), 'a***@example.com');
  assert.equal(maskEmail('@x'), '***');
  assert.equal(maskPhone('+14155552671'), '+*******2671');
  assert.equal(maskPhone('+12'), '***');
});
