import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBenchScript } from '../helpers/bench-child.js';

const VARIANTS = ['redis', 'cluster', 'postgres', 'redis ×2'];
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `npm run bench:scale -- --smoke` end to end: a redis-server, a 3-master Redis Cluster and a
 * PostgreSQL, the app on each and on two processes behind one port, a short run of the session route
 * and TOTP verification on every variant, then the replay and lockout checks on every variant. The
 * run must exit 0, and every check must be printed as run and passed (two workers reached on the
 * two-process variant), so a run that skipped them cannot pass. Throughput is not judged here.
 */
test('the scale benchmark measures every variant and its replay and lockout checks pass (--smoke)', {
  timeout: 90_000,
}, async () => {
  const { code, stdout, stderr } = await runBenchScript('bench/scale.ts', ['--smoke'], 80_000);

  assert.equal(code, 0, `bench:scale --smoke failed (exit ${code}):\n${stdout}\n${stderr}`);
  for (const variant of VARIANTS) {
    for (const scenario of ['session', 'totp-verify']) {
      const row = new RegExp(
        `^\\| ${literal(variant)} \\| ${scenario} \\| (\\d+) \\|[^|]*\\|[^|]*\\| (\\d+) \\|`,
        'm',
      );
      const match = row.exec(stdout);
      assert.ok(match, `no ${scenario} row for ${variant} in:\n${stdout}`);
      assert.ok(Number(match[1]) > 0, `${variant} ${scenario}: no answers per second`);
      assert.equal(match[2], '0', `${variant} ${scenario}: non-2xx answers`);
    }
    for (const check of ['replay', 'lockout']) {
      const row = new RegExp(
        `^\\| ${check} \\| ${literal(variant)} \\| (.*) \\| (.*) \\| (.*) \\|$`,
        'm',
      ).exec(stdout);
      assert.ok(row, `no ${check} check for ${variant} in:\n${stdout}`);
      assert.equal(row[3], 'pass', `${check} on ${variant}: ${row[0]}`);
      if (variant === 'redis ×2')
        assert.match(row[2]!, /^2 of 2 workers/, `${check} did not reach both workers`);
    }
  }
  assert.match(
    stdout,
    /^\| replay \| redis \| one code × 20 at once: 1 × 200, 5 × 401 invalid_code, 14 × 429/m,
  );
  assert.match(stdout, /^Checks: 8 of 8 passed; every answer 2xx in the measured runs: yes\.$/m);
});
