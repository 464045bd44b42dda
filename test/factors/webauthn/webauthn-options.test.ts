import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMfa, MemoryStore, MfaOptionsError } from '../../../lib/index.js';
import { parseOptions } from '../../../lib/options.js';
import { SECRET } from '../../helpers/test-app.js';

const base = () => ({ issuer: 'Acme', store: new MemoryStore(), secret: SECRET, getUser: () => undefined });
const webauthn = (options: Record<string, unknown>) => ({ ...base(), webauthn: options });

function rejects(options: Record<string, unknown>, pattern: RegExp) {
  assert.throws(
    () => createMfa(options as never),
    (error: unknown) =>
      error instanceof MfaOptionsError && error.code === 'invalid_options' && pattern.test(error.message),
    `expected ${pattern}`,
  );
}

test('off unless configured; defaults filled in when on', () => {
  assert.equal(parseOptions(base()).webauthn, undefined);
  assert.equal(parseOptions(base()).onLogin, undefined);
  const config = parseOptions(webauthn({ rpId: 'acme.com', origin: 'https://acme.com' }));
  assert.deepEqual(config.webauthn, {
    rpId: 'acme.com',
    rpName: 'Acme',
    origins: ['https://acme.com'],
    challengeTtlMs: 5 * 60_000,
    loginLimits: {
      maxFailures: 10,
      windowMs: 15 * 60_000,
      lockoutMs: 15 * 60_000,
      maxOptionsPerMinute: 30,
    },
  });
  const list = parseOptions(
    webauthn({
      rpId: 'Acme.com',
      rpName: 'Acme Inc.',
      origin: ['https://acme.com', 'https://app.acme.com', 'https://acme.com'],
      challengeTtlMs: 60_000,
      loginLimits: { maxFailures: 3 },
    }),
  ).webauthn;
  assert.equal(list?.rpId, 'acme.com');
  assert.equal(list?.rpName, 'Acme Inc.');
  assert.deepEqual(list?.origins, ['https://acme.com', 'https://app.acme.com']);
  assert.equal(list?.challengeTtlMs, 60_000);
  assert.equal(list?.loginLimits.maxFailures, 3);
  const local = parseOptions(webauthn({ rpId: 'localhost', origin: 'http://localhost:3000' })).webauthn;
  assert.deepEqual(local?.origins, ['http://localhost:3000']);
});

test('origins must be full, secure origins on the RP id', () => {
  const bad = /`webauthn\.origin` must be a full origin like https:\/\/acme\.com/;
  for (const origin of ['acme.com', 'https://acme.com/', 'https://acme.com/login', '', 42, 'https://']) {
    rejects(webauthn({ rpId: 'acme.com', origin }), bad);
  }
  rejects(webauthn({ rpId: 'acme.com', origin: ['https://acme.com', 'acme.com'] }), bad);
  rejects(webauthn({ rpId: 'acme.com' }), /`webauthn\.origin` is required/);
  rejects(webauthn({ rpId: 'acme.com', origin: [] }), /`webauthn\.origin` is required/);
  rejects(
    webauthn({ rpId: 'acme.com', origin: 'http://acme.com' }),
    /not secure: .*https \(or http:\/\/localhost\)/,
  );
  rejects(
    webauthn({ rpId: 'acme.com', origin: 'https://acme.com.evil.example' }),
    /not on `webauthn\.rpId` 'acme\.com': its host must be acme\.com or a subdomain/,
  );
  rejects(webauthn({ rpId: 'acme.com', origin: 'https://notacme.com' }), /not on `webauthn\.rpId`/);
});

test('the RP id must be a bare domain', () => {
  rejects(webauthn({ origin: 'https://acme.com' }), /`webauthn\.rpId` is required/);
  rejects(webauthn({ rpId: 'https://acme.com', origin: 'https://acme.com' }), /a domain, not a URL/);
  rejects(webauthn({ rpId: 'acme.com:443', origin: 'https://acme.com' }), /a domain, not a URL or host:port/);
  rejects(webauthn({ rpId: '127.0.0.1', origin: 'http://127.0.0.1' }), /must be a domain name/);
  rejects(webauthn({ rpId: 'acme..com', origin: 'https://acme.com' }), /must be a domain name/);
  rejects(webauthn({ rpId: 'acme.com', origin: 'https://acme.com', rpName: ' ' }), /`webauthn\.rpName`/);
});

test('unknown keys are errors with suggestions; durations and limits are checked', () => {
  rejects(
    webauthn({ rpID: 'acme.com', origin: 'https://acme.com' }),
    /unknown option `webauthn\.rpID`.*Did you mean `rpId`/,
  );
  rejects(
    webauthn({ rpId: 'acme.com', origins: ['https://acme.com'] }),
    /`webauthn\.origins`.*Did you mean `origin`/,
  );
  rejects(
    webauthn({ rpId: 'acme.com', origin: 'https://acme.com', loginLimits: { maxFailure: 3 } }),
    /`webauthn\.loginLimits\.maxFailure`.*Did you mean `maxFailures`/,
  );
  rejects(
    webauthn({ rpId: 'acme.com', origin: 'https://acme.com', challengeTtlMs: 5 }),
    /did you mean 5 \* MINUTE/,
  );
  rejects(
    webauthn({ rpId: 'acme.com', origin: 'https://acme.com', loginLimits: { maxFailures: 0 } }),
    /`webauthn\.loginLimits\.maxFailures` must be a whole number from 1/,
  );
  rejects(
    webauthn({ rpId: 'acme.com', origin: 'https://acme.com', loginLimits: { maxOptionsPerMinute: 0 } }),
    /`webauthn\.loginLimits\.maxOptionsPerMinute` must be a whole number from 1/,
  );
  rejects({ ...base(), webauthn: 'acme.com' }, /`webauthn` must be an object/);
  rejects({ ...base(), onlogin: () => {} }, /unknown option `onlogin`.*Did you mean `onLogin`/);
  rejects({ ...base(), onLogin: 'yes' }, /`onLogin` must be a function/);
});
