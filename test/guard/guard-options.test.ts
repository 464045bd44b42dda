import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMfa, MemoryStore, type MfaOptions, MfaOptionsError, MINUTE, SECOND } from '../../lib/index.js';
import { SECRET } from '../helpers/test-app.js';

const base = { issuer: 'Acme', store: new MemoryStore(), secret: SECRET, getUser: () => undefined };
const build = (extra: Partial<MfaOptions> = {}) => createMfa({ ...base, ...extra });

/** Asserts that `run` throws an MfaOptionsError whose message matches `pattern`. */
function refuses(run: () => unknown, pattern: RegExp) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof MfaOptionsError, String(error));
    assert.equal(error.code, 'invalid_options');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('requireMfa options, checked when the guard is built', () => {
  const mfa = build();

  test('maxAge: milliseconds of at least a second, or Infinity', () => {
    assert.equal(typeof mfa.requireMfa(), 'function');
    assert.equal(typeof mfa.requireMfa(SECOND), 'function');
    assert.equal(typeof mfa.requireMfa(Number.POSITIVE_INFINITY), 'function');
    refuses(
      () => mfa.requireMfa(5),
      /requireMfa\(5\) is 5 milliseconds.*did you mean requireMfa\(5 \* MINUTE\)\?/i,
    );
    refuses(() => mfa.requireMfa(999), /did you mean requireMfa\(999 \* MINUTE\)/i);
    refuses(() => mfa.requireMfa(0), /requireMfa\(0\) can never pass/);
    refuses(() => mfa.requireMfa(-1), /milliseconds >= 0/);
    refuses(() => mfa.requireMfa(Number.NaN), /milliseconds >= 0/);
    refuses(() => mfa.requireMfa('5' as never), /milliseconds >= 0/);
    refuses(() => mfa.requireMfa(1500.5), /whole milliseconds/);
  });

  test('methods: known factors that this instance serves', () => {
    assert.equal(typeof mfa.requireMfa(MINUTE, { methods: ['totp', 'backup_codes'] }), 'function');
    refuses(() => mfa.requireMfa(MINUTE, { methods: [] }), /non-empty list/);
    refuses(() => mfa.requireMfa(MINUTE, { methods: 'totp' as never }), /non-empty list/);
    refuses(
      () => mfa.requireMfa(MINUTE, { methods: ['passkey' as never] }),
      /"passkey", which is no factor\. Did you mean 'webauthn'\?/,
    );
    refuses(() => mfa.requireMfa(MINUTE, { methods: ['sms'] }), /SMS codes are off: add an `sms` sender/);
    refuses(() => mfa.requireMfa(MINUTE, { methods: ['email'] }), /email codes are off/);
    refuses(
      () => mfa.requireMfa(MINUTE, { methods: ['webauthn'] }),
      /passkeys are off: add the `webauthn` option/,
    );
    const passkeys = build({ webauthn: { rpId: 'example.com', origin: 'https://example.com' } });
    assert.equal(typeof passkeys.requireMfa(MINUTE, { methods: ['webauthn'] }), 'function');
  });

  test('sameClient, risk, onRequired: their types; unknown keys get a did-you-mean', () => {
    const ok = mfa.requireMfa(MINUTE, { sameClient: true, risk: () => false, onRequired: () => {} });
    assert.equal(typeof ok, 'function');
    refuses(
      () => mfa.requireMfa(MINUTE, { sameClient: 'yes' as never }),
      /`sameClient` must be true or false/,
    );
    refuses(() => mfa.requireMfa(MINUTE, { risk: true as never }), /`requireMfa risk` must be a function/);
    refuses(
      () => mfa.requireMfa(MINUTE, { onRequired: '/verify' as never }),
      /`requireMfa onRequired` must be a function/,
    );
    refuses(
      () => mfa.requireMfa(MINUTE, { sameclient: true } as never),
      /requireMfa: unknown option `sameclient`\. Did you mean `sameClient`\?/,
    );
    refuses(() => mfa.requireMfa(MINUTE, { method: ['totp'] } as never), /Did you mean `methods`\?/);
    refuses(() => mfa.requireMfa(MINUTE, ['totp'] as never), /`options` must be an object/);
  });
});

describe('createMfa pages and onRequired', () => {
  test('pages are paths on this site; enrol defaults to verify', () => {
    assert.equal(typeof build({ pages: { verify: '/verify' } }).requireMfa(), 'function');
    assert.equal(
      typeof build({ pages: { verify: '/mfa?x=1', enrol: '/account/security' } }).requireMfa(),
      'function',
    );
    for (const verify of ['https://evil.com/verify', '//evil.com', 'verify', '/a\\b', '', '/v#x']) {
      refuses(() => build({ pages: { verify } }), /`pages\.verify` must be a path on this site/);
    }
    refuses(() => build({ pages: { verify: '/v', enrol: '//x' } }), /`pages\.enrol` must be a path/);
    refuses(() => build({ pages: {} as never }), /`pages\.verify` must be a path/);
    refuses(() => build({ pages: { verify: '/v', enroll: '/e' } as never }), /Did you mean `enrol`\?/);
    refuses(() => build({ pages: '/verify' as never }), /`pages` must be an object/);
    refuses(() => build({ onRequired: 1 as never }), /`onRequired` must be a function/);
  });
});
