import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createKeyring, randomString } from '../lib/crypto.js';

const A = 'a-first-secret-of-at-least-32-characters';
const B = 'a-second-secret-of-at-least-32-characters';

test('encrypts with AES-256-GCM under a key id, bound to its context', () => {
  const keyring = createKeyring([A]);
  const token = keyring.encrypt('JBSWY3DPEHPK3PXP', 'totp:ada');
  assert.match(token, /^v1\.[\w-]{8}\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/);
  assert.ok(!token.includes('JBSWY3DPEHPK3PXP'));
  assert.notEqual(keyring.encrypt('JBSWY3DPEHPK3PXP', 'totp:ada'), token, 'a fresh IV every time');
  assert.equal(keyring.decrypt(token, 'totp:ada'), 'JBSWY3DPEHPK3PXP');
  assert.throws(() => keyring.decrypt(token, 'totp:bob'), 'moved to another user');
  const parts = token.split('.');
  parts[3] = Buffer.from('tampered').toString('base64url');
  assert.throws(() => keyring.decrypt(parts.join('.'), 'totp:ada'), 'tampered ciphertext');
});

test('rotation: data written under an old secret still decrypts and matches; new data uses the new one', () => {
  const old = createKeyring([A]);
  const rotated = createKeyring([B, A]);
  const token = old.encrypt('secret', 'ctx');
  assert.equal(rotated.decrypt(token, 'ctx'), 'secret');
  assert.notEqual(rotated.encrypt('secret', 'ctx').split('.')[1], token.split('.')[1]);
  assert.ok(rotated.hashes('ctx', 'code').includes(old.hash('ctx', 'code')));
  assert.equal(rotated.hashes('ctx', 'code')[0], rotated.hash('ctx', 'code'));
  assert.throws(() => createKeyring([B]).decrypt(token, 'ctx'), /no `secret` matches: was a secret removed/);
  assert.equal(old.isCurrent(token), true);
  assert.equal(rotated.isCurrent(token), false);
  assert.equal(rotated.isCurrent(rotated.encrypt('secret', 'ctx')), true);
});

test('a shortened authentication tag or IV is refused, so forgeries stay 2^128 hard', () => {
  const keyring = createKeyring([A]);
  const parts = keyring.encrypt('secret', 'ctx').split('.');
  const shortTag = [
    ...parts.slice(0, 4),
    Buffer.from(parts[4]!, 'base64url').subarray(0, 4).toString('base64url'),
  ];
  assert.throws(() => keyring.decrypt(shortTag.join('.'), 'ctx'), /malformed/);
  const shortIv = [
    parts[0],
    parts[1],
    Buffer.from(parts[2]!, 'base64url').subarray(0, 8).toString('base64url'),
    parts[3],
    parts[4],
  ];
  assert.throws(() => keyring.decrypt(shortIv.join('.'), 'ctx'), /malformed/);
});

test('hashes are keyed and bound to their context', () => {
  const keyring = createKeyring([A]);
  assert.equal(keyring.hash('ctx', 'code'), keyring.hash('ctx', 'code'));
  assert.notEqual(keyring.hash('ctx', 'code'), keyring.hash('ctx2', 'code'));
  assert.notEqual(keyring.hash('ctx', 'code'), createKeyring([B]).hash('ctx', 'code'));
  // The separator keeps (context, value) pairs from colliding by concatenation.
  assert.notEqual(keyring.hash('ab', 'c'), keyring.hash('a', 'bc'));
});

test('randomString draws only from its alphabet, covering all of it', () => {
  const s = randomString('abc', 3000);
  assert.equal(s.length, 3000);
  assert.deepEqual([...new Set(s)].sort(), ['a', 'b', 'c']);
});
