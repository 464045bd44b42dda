import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBenchScript } from '../helpers/bench-child.js';

/**
 * bench/webauthn-cost.ts end to end: every kind verifies the software authenticator's assertion and
 * refuses a forged one (the script exits 1 otherwise), and each gets a figure. Timing is not judged.
 */
test('webauthn-cost times every kind of assertion check (--smoke)', { timeout: 60_000 }, async () => {
  const run = await runBenchScript('bench/webauthn-cost.ts', ['--smoke'], 50_000);
  const output = `${run.stdout}\n${run.stderr}`;
  assert.equal(run.code, 0, `webauthn-cost --smoke failed (exit ${run.code}):\n${output}`);
  for (const kind of ['library', 'webcrypto', 'jwk-import', 'cached-key']) {
    const row = new RegExp(`^\\| ${kind} \\| ([\\d.]+) \\| \\d+ \\d+ \\|$`, 'm').exec(run.stdout);
    assert.ok(row, `no figure for ${kind} in:\n${output}`);
    assert.ok(Number(row[1]) > 0, `${kind} measured no CPU:\n${output}`);
  }
});
