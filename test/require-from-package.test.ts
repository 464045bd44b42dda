import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requirePeer } from '../lib/delivery/require-peer.js';

test('a missing optional peer is one sentence that says what to install', () => {
  assert.throws(
    () => requirePeer('express-mfa-no-such-sdk', 'express-mfa/nowhere'),
    (error: Error) =>
      error.message ===
      'express-mfa: install express-mfa-no-such-sdk to use express-mfa/nowhere (npm install express-mfa-no-such-sdk).',
  );
});

test('an installed module loads, from where the package is, even with stack traces turned off', async () => {
  const url = new URL('../lib/require-from-package.ts', import.meta.url).href;
  // A fresh copy: the resolver is created on first use.
  const { requireFromPackage } = (await import(
    `${url}?fresh=1`
  )) as typeof import('../lib/require-from-package.js');
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const { base32 } = requireFromPackage<typeof import('rfc4648')>('rfc4648');
    assert.equal(base32.stringify(new Uint8Array([102, 111, 111])), 'MZXW6===');
    assert.equal(Error.stackTraceLimit, 0, 'the app setting is restored');
  } finally {
    Error.stackTraceLimit = limit;
  }
});
