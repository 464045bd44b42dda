import assert from 'node:assert/strict';
import { test } from 'node:test';

// Two copies of the same module, as an app gets when it loads the ESM and the CommonJS build.
const url = new URL('../lib/errors.ts', import.meta.url).href;
const first = (await import(`${url}?copy=1`)) as typeof import('../lib/errors.js');
const second = (await import(`${url}?copy=2`)) as typeof import('../lib/errors.js');

test('the copies are distinct classes, yet instanceof recognises either', () => {
  assert.notEqual(first.MfaError, second.MfaError);
  assert.ok(new first.MfaError('invalid_code', 'x') instanceof second.MfaError);
  assert.ok(new second.MfaError('invalid_code', 'x') instanceof first.MfaError);
  assert.ok(new first.MfaOptionsError('x') instanceof second.MfaOptionsError);
});

test('the brand does not make other errors match', () => {
  assert.ok(!(new Error('x') instanceof first.MfaError));
  assert.ok(!(new first.MfaOptionsError('x') instanceof second.MfaError));
  assert.ok(!(new first.MfaError('internal', 'x') instanceof first.MfaOptionsError));
  for (const value of [null, undefined, 'MfaError', { code: 'internal' }]) {
    assert.ok(!((value as object) instanceof first.MfaError));
  }
});

test('a subclass keeps the ordinary check', () => {
  class Special extends first.MfaError {}
  assert.ok(new Special('internal', 'x') instanceof Special);
  assert.ok(new Special('internal', 'x') instanceof second.MfaError);
  assert.ok(!(new first.MfaError('internal', 'x') instanceof Special));
});
