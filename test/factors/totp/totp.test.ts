import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSync } from 'otplib';
import {
  generateTotpSecret,
  matchTotpStep,
  normalizeTotpCode,
  type TotpAlgorithm,
  totpUri,
} from '../../../lib/factors/totp/totp.js';
import { COINCIDING } from '../../helpers/coinciding-codes.js';

// RFC 6238 Appendix B: seeds are ASCII, 8-digit codes, 30 s steps.
const SEEDS: Record<TotpAlgorithm, string> = {
  sha1: '12345678901234567890',
  sha256: '12345678901234567890123456789012',
  sha512: '1234567890123456789012345678901234567890123456789012345678901234',
};
const VECTORS: [number, Record<TotpAlgorithm, string>][] = [
  [59, { sha1: '94287082', sha256: '46119246', sha512: '90693936' }],
  [1111111109, { sha1: '07081804', sha256: '68084774', sha512: '25091201' }],
  [1111111111, { sha1: '14050471', sha256: '67062674', sha512: '99943326' }],
  [1234567890, { sha1: '89005924', sha256: '91819424', sha512: '93441116' }],
  [2000000000, { sha1: '69279037', sha256: '90698825', sha512: '38618901' }],
  [20000000000, { sha1: '65353130', sha256: '77737706', sha512: '47863826' }],
];

describe('RFC 6238 Appendix B', () => {
  for (const [seconds, codes] of VECTORS) {
    for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
      test(`${algorithm} at T=${seconds}`, () => {
        const secret = new TextEncoder().encode(SEEDS[algorithm]);
        const check = { secret, nowMs: seconds * 1000, window: 0, digits: 8 as const, algorithm };
        assert.equal(matchTotpStep({ ...check, code: codes[algorithm] }), Math.floor(seconds / 30));
        // One digit off must fail, so the vector is really being checked.
        const wrong = codes[algorithm].slice(0, 7) + String((Number(codes[algorithm][7]) + 1) % 10);
        assert.equal(matchTotpStep({ ...check, code: wrong }), null);
      });
    }
  }
});

describe('matchTotpStep', () => {
  const secret = generateTotpSecret();
  const now = Date.UTC(2026, 0, 1, 12, 0, 10);
  const codeAt = (ms: number) => generateSync({ secret, epoch: Math.floor(ms / 1000) });
  /** A code of none of the steps around `ms` (the first 6-digit string that is not one of them). */
  const wrongAt = (ms: number) => {
    const taken = new Set([-1, 0, 1].map((k) => codeAt(Math.max(0, ms + k * 30_000))));
    for (let n = 0; ; n++) {
      const code = String(n).padStart(6, '0');
      if (!taken.has(code)) return code;
    }
  };

  test('accepts the previous, current and next step with window 1, and names the step', () => {
    const step = Math.floor(now / 30_000);
    assert.equal(matchTotpStep({ secret, code: codeAt(now - 30_000), nowMs: now, window: 1 }), step - 1);
    assert.equal(matchTotpStep({ secret, code: codeAt(now), nowMs: now, window: 1 }), step);
    assert.equal(matchTotpStep({ secret, code: codeAt(now + 30_000), nowMs: now, window: 1 }), step + 1);
  });

  test('refuses codes two steps away with window 1, and one step away with window 0', () => {
    assert.equal(matchTotpStep({ secret, code: codeAt(now - 60_000), nowMs: now, window: 1 }), null);
    assert.equal(matchTotpStep({ secret, code: codeAt(now + 60_000), nowMs: now, window: 1 }), null);
    assert.equal(matchTotpStep({ secret, code: codeAt(now - 30_000), nowMs: now, window: 0 }), null);
  });

  test('of two neighbouring steps with the same code, the one nearest now is named', () => {
    const { secret: key, step, code } = COINCIDING;
    const at = (s: number) => generateSync({ secret: key, epoch: s * 30 + 5 });
    assert.equal(at(step), code, 'the fixture: its first step has the code');
    assert.equal(at(step + 1), code, 'the fixture: the next step has the same code');
    // In the later step its code is the later step's, not the (already used) step before.
    assert.equal(
      matchTotpStep({ secret: key, code, nowMs: ((step + 1) * 30 + 5) * 1000, window: 1 }),
      step + 1,
    );
    assert.equal(matchTotpStep({ secret: key, code, nowMs: (step * 30 + 5) * 1000, window: 1 }), step);
    // Seen from two steps on, only the nearer of the two is in the window.
    assert.equal(
      matchTotpStep({ secret: key, code, nowMs: ((step + 2) * 30 + 5) * 1000, window: 1 }),
      step + 1,
    );
  });

  test('a wider window reaches every step in it and none beyond; near the epoch there is no step before 0', () => {
    const step = Math.floor(now / 30_000);
    for (const offset of [-2, -1, 0, 1, 2]) {
      const code = codeAt(now + offset * 30_000);
      assert.equal(matchTotpStep({ secret, code, nowMs: now, window: 2 }), step + offset, `offset ${offset}`);
    }
    for (const offset of [-3, 3]) {
      assert.equal(
        matchTotpStep({ secret, code: codeAt(now + offset * 30_000), nowMs: now, window: 2 }),
        null,
      );
    }
    // At 10 s after the epoch: steps 0 and 1 pass, and nothing reaches for a step before the first.
    const early = 10_000;
    assert.equal(matchTotpStep({ secret, code: codeAt(early), nowMs: early, window: 1 }), 0);
    assert.equal(matchTotpStep({ secret, code: codeAt(early + 30_000), nowMs: early, window: 1 }), 1);
    assert.equal(matchTotpStep({ secret, code: wrongAt(early), nowMs: early, window: 1 }), null);
  });

  test('a window outside 0..10 is a programming error, not a refused code', () => {
    for (const window of [-1, 11, 1.5, Number.POSITIVE_INFINITY, Number.NaN]) {
      assert.throws(
        () => matchTotpStep({ secret, code: '123456', nowMs: now, window }),
        RangeError,
        String(window),
      );
    }
  });

  test('malformed codes are simply not valid, never a throw', () => {
    for (const code of ['', '12345', '1234567', 'abcdef', '12 456', '١٢٣٤٥٦', '-12345', '1e5000']) {
      assert.equal(matchTotpStep({ secret, code, nowMs: now, window: 1 }), null, code);
    }
  });
});

test('secrets are 160-bit base32 and differ every time', () => {
  const secrets = new Set(Array.from({ length: 50 }, generateTotpSecret));
  assert.equal(secrets.size, 50);
  for (const s of secrets) assert.match(s, /^[A-Z2-7]{32}$/);
});

test('the otpauth URI names issuer and account and carries the secret', () => {
  const uri = new URL(totpUri('JBSWY3DPEHPK3PXP', 'Acme Co', 'ada@example.com'));
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.searchParams.get('secret'), 'JBSWY3DPEHPK3PXP');
  assert.equal(uri.searchParams.get('issuer'), 'Acme Co');
  assert.match(decodeURIComponent(uri.pathname), /Acme Co:ada@example.com/);
});

test('spaces and dashes in typed codes are ignored', () => {
  assert.equal(normalizeTotpCode(' 123 456 '), '123456');
  assert.equal(normalizeTotpCode('123-456'), '123456');
});
