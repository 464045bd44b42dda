import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Request } from 'express';
import {
  MAX_RETURN_TO,
  pageLocation,
  returnToOf,
  safeReturnTo,
  withReturnTo,
} from '../../lib/guard/return-to.js';

/** Open-redirect attempts: every one must come back as '/'. */
export const HOSTILE_RETURN_TO: unknown[] = [
  '//evil.com',
  '//evil.com/account',
  '///evil.com',
  '/\\evil.com',
  '\\\\evil.com',
  '\\/evil.com',
  'https://evil.com',
  'http:evil.com',
  'javascript:alert(1)',
  'JavaScript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'evil.com',
  '%2F%2Fevil.com',
  '/%2F%2Fevil.com',
  '/%2Fevil.com',
  '/%5Cevil.com',
  '/%5cevil.com',
  '/%255Cevil.com',
  '/%252F%252Fevil.com',
  '/%25252F%25252Fevil.com',
  '/\t/evil.com',
  '/\n/evil.com',
  '/\r\n/evil.com',
  '/%09/evil.com',
  '/%0d%0aSet-Cookie:%20x=y',
  '/\u0000/evil.com',
  '/account\u007f',
  ' /account',
  '/account page',
  '/\u2215evil.com',
  '/\uff3cevil.com',
  '/.//evil.com',
  '/%2e%2e//evil.com',
  `/${'a'.repeat(MAX_RETURN_TO)}`,
  '',
  ['/account'],
  42,
  null,
  undefined,
  { toString: () => '/account' },
];

describe('safeReturnTo', () => {
  test(`${HOSTILE_RETURN_TO.length} open-redirect attempts all fall back to '/'`, () => {
    assert.ok(HOSTILE_RETURN_TO.length >= 15);
    for (const value of HOSTILE_RETURN_TO) {
      assert.equal(safeReturnTo(value), '/', JSON.stringify(value));
    }
  });

  test('a path on this site comes back unchanged, query, fragment and %-escapes included', () => {
    for (const value of [
      '/',
      '/account',
      '/account/security?tab=passkeys&from=email',
      '/docs#step-2',
      '/search?q=100%25',
      '/files/a%20b.pdf',
      '/@ada',
      '/a/../b',
      `/${'a'.repeat(MAX_RETURN_TO - 1)}`,
    ]) {
      assert.equal(safeReturnTo(value), value, value);
    }
  });
});

const request = (parts: { query?: object; body?: object; originalUrl?: string }) =>
  ({ query: {}, ...parts }) as unknown as Request;

describe('returnTo plumbing', () => {
  test('returnToOf reads the query first, then a JSON body; both validated', () => {
    assert.equal(returnToOf(request({ query: { returnTo: '/a?b=1' } })), '/a?b=1');
    assert.equal(returnToOf(request({ query: { returnTo: '//evil.com' } })), '/');
    assert.equal(returnToOf(request({ query: { returnTo: ['/a', '/b'] } })), '/');
    assert.equal(returnToOf(request({ body: { returnTo: '/from-body' } })), '/from-body');
    assert.equal(returnToOf(request({})), '/');
  });

  test('withReturnTo echoes a sent returnTo validated, and adds nothing when none was sent', () => {
    const answer = { ok: true, verifiedAt: 5 };
    assert.deepEqual(withReturnTo(request({ body: {} }), answer), answer);
    assert.deepEqual(withReturnTo(request({ body: { returnTo: '/x?y=1' } }), answer), {
      ...answer,
      returnTo: '/x?y=1',
    });
    assert.deepEqual(withReturnTo(request({ body: { returnTo: 'https://evil.com' } }), answer), {
      ...answer,
      returnTo: '/',
    });
  });

  test('pageLocation carries the original path and query, encoded, and keeps a page query', () => {
    assert.equal(
      pageLocation('/verify', request({ originalUrl: '/account/delete?confirm=1&x=%20' })),
      '/verify?returnTo=%2Faccount%2Fdelete%3Fconfirm%3D1%26x%3D%2520',
    );
    assert.equal(
      pageLocation('/verify?lang=de', request({ originalUrl: '/a' })),
      '/verify?lang=de&returnTo=%2Fa',
    );
    // A request-target that is itself a trick is not passed on.
    assert.equal(pageLocation('/verify', request({ originalUrl: '//evil.com/x' })), '/verify?returnTo=%2F');
  });
});
