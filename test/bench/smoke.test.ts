import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HTTP_SCENARIOS } from '../../bench/scenarios.js';
import { runBenchScript } from '../helpers/bench-child.js';

/**
 * `npm run bench -- --smoke` end to end, so the benchmark cannot rot: every scenario runs for about a
 * second against a real redis-server and server process, and the run fails unless every answer was
 * 2xx and the memory scenario stayed bounded. Throughput targets are not judged here (timing belongs
 * to the real benchmark, not to tests).
 */
test('the benchmark runs every scenario and every answer is 2xx (--smoke)', { timeout: 90_000 }, async () => {
  const { code, stdout, stderr } = await runBenchScript('bench/run.ts', ['--smoke'], 80_000);

  assert.equal(code, 0, `bench --smoke failed (exit ${code}):\n${stdout}\n${stderr}`);
  for (const scenario of [...HTTP_SCENARIOS, 'memory']) {
    assert.match(stdout, new RegExp(`^\\| ${scenario} \\|`, 'm'), `no ${scenario} row in:\n${stdout}`);
  }
  // Every HTTP row of the main table (8 columns): some 2xx answers and a non-2xx count of 0.
  const rows = stdout
    .split('\n')
    .filter((line) => HTTP_SCENARIOS.some((name) => line.startsWith(`| ${name} |`)))
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .filter((cells) => cells.length === 10);
  assert.equal(
    rows.length,
    HTTP_SCENARIOS.length,
    `expected ${HTTP_SCENARIOS.length} HTTP rows in:\n${stdout}`,
  );
  for (const cells of rows) {
    assert.ok(Number(cells[5]) > 0, `no 2xx answers: ${cells.join(' | ')}`);
    assert.equal(cells[6], '0', `non-2xx answers: ${cells.join(' | ')}`);
  }
  assert.match(stdout, /\| memory \|.*\| bounded \|/);
  // The cold import, judged against its target in the same run.
  assert.match(stdout, /^ {2}express-mfa {13} +\d+ ms +[\d.]+x express$/m, 'no cold import figure');
  assert.match(stdout, /^- (met|MISSED): cold import\('express-mfa'\) [\d.]+ x import\('express'\)/m);
  // The detail table's server CPU and, within it, the garbage collector's share, per request.
  const detail = stdout
    .split('\n')
    .filter((line) => HTTP_SCENARIOS.some((name) => line.startsWith(`| ${name} |`)))
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .filter((cells) => cells.length === 9);
  assert.equal(detail.length, HTTP_SCENARIOS.length, `expected the detail rows in:\n${stdout}`);
  for (const [, name, cpu, gc] of detail) {
    assert.ok(Number(cpu) > 0, `${name}: no server CPU measured`);
    assert.ok(Number(gc) >= 0 && Number(gc) <= Number(cpu), `${name}: GC ${gc} µs outside 0..${cpu}`);
  }
  const totpGc = Number(detail.find((cells) => cells[1] === 'totp-verify')?.[3]);
  assert.ok(totpGc > 0, 'a verification allocates: its GC time per request is above 0');
});
