import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateBackupCodes, normalizeBackupCode } from '../../../lib/factors/backup-codes/backup-codes.js';

test('codes are xxxx-xxxx-xxxx-xxxx from a 32-letter alphabet: 80 bits each, all different', () => {
  const codes = generateBackupCodes(200);
  assert.equal(new Set(codes).size, 200);
  for (const code of codes) assert.match(code, /^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/);
  // Every letter of the alphabet shows up: the draw is not stuck on a subset.
  assert.equal(new Set(codes.join('').replaceAll('-', '')).size, 32);
});

test('typed codes are normalised: case, spaces, dashes and look-alike letters', () => {
  assert.equal(normalizeBackupCode('ABCD-EFGH-JKMN-PQRS'), 'abcdefghjkmnpqrs');
  assert.equal(normalizeBackupCode(' abcd efgh jkmn pqrs '), 'abcdefghjkmnpqrs');
  assert.equal(normalizeBackupCode('oooo-iiii-llll-0000'), '0000111111110000');
});

test('anything that cannot be a code is null', () => {
  for (const input of [
    '',
    'abcd-efgh-jkmn',
    'abcd-efgh-jkmn-pqrs-t',
    'abcd-efgh-jkmn-pqr!',
    'uuuu-uuuu-uuuu-uuuu',
  ]) {
    assert.equal(normalizeBackupCode(input), null, input);
  }
});
