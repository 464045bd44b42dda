import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMfa, MemoryStore, MfaOptionsError } from '../lib/index.js';
import { parseOptions } from '../lib/options.js';
import { SECRET } from './helpers/test-app.js';

const base = () => ({ issuer: 'Acme', store: new MemoryStore(), secret: SECRET, getUser: () => undefined });

function rejects(options: Record<string, unknown>, pattern: RegExp) {
  assert.throws(
    () => createMfa(options as never),
    (error: unknown) =>
      error instanceof MfaOptionsError && error.code === 'invalid_options' && pattern.test(error.message),
  );
}

test('defaults: 5 failures, 15 minute window and lockout, 5 minute freshness, ±1 step, 10 minute pending secret', () => {
  const config = parseOptions(base());
  assert.deepEqual(config.limits, { maxFailures: 5, windowMs: 15 * 60_000, lockoutMs: 15 * 60_000 });
  assert.equal(config.freshMaxAgeMs, 5 * 60_000);
  assert.deepEqual(config.totp, { pendingTtlMs: 10 * 60_000, window: 1 });
  assert.equal(config.now, Date.now);
  assert.deepEqual(config.secrets, [SECRET]);
});

test('unknown keys are errors, with a suggestion when one is close', () => {
  rejects({ ...base(), issur: 'x' }, /unknown option `issur`.*Did you mean `issuer`/);
  rejects({ ...base(), limits: { maxFailure: 3 } }, /`limits\.maxFailure`.*Did you mean `maxFailures`/);
  rejects({ ...base(), colour: 'red' }, /unknown option `colour`.*Known options/);
});

test('required options say how to fix them', () => {
  rejects({ ...base(), issuer: '' }, /`issuer` must be a non-empty string/);
  rejects({ ...base(), store: undefined }, /`store` is required: `new RedisStore/);
  rejects({ ...base(), store: { get() {} } }, /does not implement the Store contract: missing set/);
  rejects({ ...base(), secret: 'short' }, /at least 32 characters/);
  rejects({ ...base(), secret: [] }, /`secret` is required/);
  rejects({ ...base(), secret: [SECRET, 'short'] }, /at least 32 characters/);
  rejects({ ...base(), getUser: 'user' }, /`getUser` must be a function/);
  rejects({ ...base(), onEvent: 1 }, /`onEvent` must be a function/);
  assert.throws(() => createMfa(undefined as never), MfaOptionsError);
});

test('durations are positive milliseconds; counts are whole numbers in range', () => {
  rejects({ ...base(), freshMaxAgeMs: 0 }, /`freshMaxAgeMs` must be whole milliseconds of at least 1000/);
  // Fractions would round to 0 in the stores and switch the limit off; small numbers are minutes mistyped.
  rejects({ ...base(), limits: { windowMs: 0.5 } }, /`limits\.windowMs`/);
  rejects({ ...base(), limits: { lockoutMs: 15 } }, /did you mean 15 \* MINUTE/);
  rejects({ ...base(), limits: { windowMs: '15m' } }, /`limits\.windowMs`/);
  rejects({ ...base(), limits: { maxFailures: 2.5 } }, /`limits\.maxFailures` must be a whole number from 1/);
  rejects({ ...base(), totp: { window: 11 } }, /`totp\.window` must be a whole number from 0 to 10/);
  rejects({ ...base(), totp: 'yes' }, /`totp` must be an object/);
});

test('a list of secrets rotates: all are kept, the first is current', () => {
  const other = 'another-secret-of-at-least-32-characters';
  assert.deepEqual(parseOptions({ ...base(), secret: [other, SECRET] }).secrets, [other, SECRET]);
});
