import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSendableAddress } from '../lib/email-address.js';
import { emailAddressOf } from '../lib/factors/email-sms/email-address.js';
import { normalizeEmail } from '../lib/factors/recovery/recovery-code.js';

test('one address check for the email factor, notices and recovery', () => {
  for (const good of ['ada@example.com', 'a.b+tag@mail.example.co.uk', 'ünïcode@exämple.de']) {
    assert.equal(isSendableAddress(good), true, good);
    assert.equal(emailAddressOf({ id: '1', email: good }), good);
    assert.equal(normalizeEmail(` ${good.toUpperCase()} `), good.toLowerCase());
  }
  const bad = [
    'ada@localhost',
    'ada',
    '@example.com',
    'ada@',
    'a@b@example.com',
    'ada @example.com',
    'ada@example.com\r\nBcc: eve@example.com',
    'ada@exa\u0000mple.com',
    `${'a'.repeat(250)}@example.com`,
  ];
  for (const address of bad) {
    assert.equal(isSendableAddress(address), false, JSON.stringify(address));
    assert.equal(emailAddressOf({ id: '1', email: address }), undefined);
    assert.equal(normalizeEmail(address), null, JSON.stringify(address));
  }
});
