import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Request } from 'express';
import { createKeyring } from '../../lib/crypto.js';
import { clientFingerprint, networkOf } from '../../lib/guard/client-fingerprint.js';
import { SECRET } from '../helpers/test-app.js';

describe('networkOf', () => {
  test('IPv4: the /24', () => {
    assert.equal(networkOf('203.0.113.7'), '4:203.0.113');
    assert.equal(networkOf('203.0.113.250'), networkOf('203.0.113.7'));
    assert.notEqual(networkOf('203.0.114.7'), networkOf('203.0.113.7'));
  });

  test('IPv6: the /48, however the address is written', () => {
    assert.equal(networkOf('2001:db8:abcd:12::1'), '6:2001:db8:abcd');
    assert.equal(networkOf('2001:0db8:abcd:ffff:1:2:3:4'), networkOf('2001:db8:abcd::9'));
    assert.notEqual(networkOf('2001:db8:abce::1'), networkOf('2001:db8:abcd::1'));
    assert.equal(networkOf('fe80::1%eth0'), '6:fe80:0:0');
  });

  test('an IPv4-mapped IPv6 address is its IPv4 address', () => {
    assert.equal(networkOf('::ffff:203.0.113.7'), '4:203.0.113');
    assert.equal(networkOf('::ffff:cb00:7107'), '4:203.0.113');
    assert.equal(networkOf('::ffff:127.0.0.1'), networkOf('127.0.0.9'));
  });

  test('no usable address: undefined (a sameClient guard then refuses)', () => {
    for (const ip of [undefined, '', 'localhost', '1.2.3', '999.1.1.1', '::g', '203.0.113.7, 10.0.0.1']) {
      assert.equal(networkOf(ip), undefined, String(ip));
    }
  });
});

describe('clientFingerprint', () => {
  const req = (ip: string | undefined, userAgent?: string) =>
    ({ ip, get: (name: string) => (name === 'user-agent' ? userAgent : undefined) }) as unknown as Request;
  const fingerprint = clientFingerprint(createKeyring([SECRET]));

  test('the same network and User-Agent give the same short value; either changed, another', () => {
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130';
    const a = fingerprint(req('203.0.113.7', ua));
    assert.match(a ?? '', /^[\w-]{8}\.[\w-]{22}$/);
    assert.equal(fingerprint(req('203.0.113.99', ua)), a);
    assert.notEqual(fingerprint(req('203.0.114.7', ua)), a);
    assert.notEqual(fingerprint(req('203.0.113.7', `${ua}.1`)), a);
    assert.notEqual(fingerprint(req('203.0.113.7')), a);
    assert.equal(fingerprint(req(undefined, ua)), undefined);
  });

  test('keyed with the secret: another secret gives another value, so a session reveals no network', () => {
    const other = clientFingerprint(createKeyring([`${SECRET}-other`]));
    const a = fingerprint(req('203.0.113.7', 'ua'));
    assert.notEqual(other(req('203.0.113.7', 'ua')), a);
    assert.ok(!a?.includes('203'));
  });
});

describe('clientFingerprint cache', () => {
  test('cached answers equal fresh ones, for many clients and over-long User-Agents', () => {
    const keyring = createKeyring([SECRET]);
    const cached = clientFingerprint(keyring);
    const req = (ip: string, userAgent: string) =>
      ({ ip, get: (name: string) => (name === 'user-agent' ? userAgent : undefined) }) as unknown as Request;
    const clients = Array.from({ length: 1500 }, (_, i) => req(`10.${i % 7}.${i % 250}.1`, `UA ${i % 3}`));
    clients.push(req('203.0.113.7', 'x'.repeat(4000)));
    for (let round = 0; round < 2; round++) {
      for (const r of clients) assert.equal(cached(r), clientFingerprint(keyring)(r));
    }
  });
});
