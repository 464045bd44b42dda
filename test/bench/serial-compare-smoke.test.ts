import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runBenchScript } from '../helpers/bench-child.js';

/** Runs `body` with a fresh temporary directory for its profiles, removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'serial-compare-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * bench/serial-compare.ts end to end (real redis-server, the built library mounted twice on one app)
 * and bench/profile-diff.ts on the profile it writes: every kind verifies (a refused verification
 * ends the run with an error), each is measured, and a profile compared with itself differs by 0.
 */
test(
  'serial-compare measures A, B and both floors, and profile-diff reads its profile (--smoke)',
  {
    timeout: 90_000,
  },
  () =>
    inTempDir(async (dir) => {
      const profile = join(dir, 'a.cpuprofile');
      const run = await runBenchScript('bench/serial-compare.ts', ['--smoke', '--profile', profile], 60_000);
      const output = `${run.stdout}\n${run.stderr}`;
      assert.equal(run.code, 0, `serial-compare --smoke failed (exit ${run.code}):\n${output}`);
      for (const kind of ['A', 'B', 'floor', 'floor-totp']) {
        const line = new RegExp(
          `^${kind} +mean ([\\d.]+) µs, median ([\\d.]+) µs \\(blocks: \\d+ \\d+\\)$`,
          'm',
        ).exec(run.stdout);
        assert.ok(line, `no figure for ${kind} in:\n${output}`);
        assert.ok(Number(line[1]) > 0, `${kind} measured no CPU:\n${output}`);
      }
      assert.match(run.stdout, /^B\/A \d+\.\d{3} \(per block: [\d.]+ [\d.]+\)$/m, output);
      assert.match(run.stdout, /^A - floor: -?\d+ µs$/m, output);
      assert.match(run.stdout, /^A - floor-totp: -?\d+ µs$/m, output);

      const diff = await runBenchScript(
        'bench/profile-diff.ts',
        [profile, profile, '--requests', '10', '--top', '5'],
        30_000,
      );
      assert.equal(diff.code, 0, `profile-diff failed:\n${diff.stdout}\n${diff.stderr}`);
      const busy = /^busy CPU per request: A (\d+) µs, B (\d+) µs, B - A (-?\d+) µs$/m.exec(diff.stdout);
      assert.ok(busy, `no busy line in:\n${diff.stdout}`);
      assert.ok(Number(busy[1]) > 0, diff.stdout);
      assert.equal(busy[1], busy[2]);
      assert.equal(Number(busy[3]), 0);
      assert.match(diff.stdout, /^self time by package, µs per request:/m);
    }),
);

/**
 * The step-up kinds (each copy steps up a session of its own) and the heap profile: profile-diff
 * reads it as bytes allocated per request, by package and by function.
 */
test(
  'serial-compare --step-up measures both copies and writes a heap profile profile-diff reads (--smoke)',
  {
    timeout: 90_000,
  },
  () =>
    inTempDir(async (dir) => {
      const heap = join(dir, 'a.heapprofile');
      const run = await runBenchScript(
        'bench/serial-compare.ts',
        ['--smoke', '--step-up', '--only', 'A,B', '--heap-profile', heap],
        60_000,
      );
      const output = `${run.stdout}\n${run.stderr}`;
      assert.equal(run.code, 0, `serial-compare --smoke --step-up failed (exit ${run.code}):\n${output}`);
      assert.match(run.stdout, /\(step-up verifications\)/, output);
      assert.match(run.stdout, /^B\/A \d+\.\d{3} /m, output);

      // The heap profile holds both kinds' requests: 20 each in a smoke run.
      const diff = await runBenchScript('bench/profile-diff.ts', [heap, heap, '--requests', '40'], 30_000);
      assert.equal(diff.code, 0, `profile-diff failed:\n${diff.stdout}\n${diff.stderr}`);
      const total = /^allocated per request: A (\d+) bytes, B (\d+) bytes, B - A (-?\d+) bytes$/m.exec(
        diff.stdout,
      );
      assert.ok(total, `no allocation line in:\n${diff.stdout}`);
      assert.ok(Number(total[1]) > 1000, `a verification allocates more than 1 kB:\n${diff.stdout}`);
      assert.equal(Number(total[3]), 0);
      assert.match(diff.stdout, /^allocated by function, bytes per request:/m);
      assert.match(diff.stdout, /dist\/session\.js/, 'the MFA session code allocates');
      assert.match(run.stdout, /^heap profile \(sampled\) of the measured blocks: .* 40 in all;/m, output);
    }),
);
