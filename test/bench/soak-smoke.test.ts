import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBenchScript } from '../helpers/bench-child.js';

/**
 * `npm run bench:soak -- --smoke` end to end (real redis-server, the built library in a server
 * process, autocannon): the soak's mix must get the expected answer to every request, and it must
 * have sent what makes it a soak of the verify route: right codes accepted and wrong codes refused,
 * next to the guard. Latency and memory trends are not judged here (seconds are too short).
 */
test('the soak holds its mix with no error, and wrong codes are sent and refused (--smoke)', {
  timeout: 60_000,
}, async () => {
  const { code, stdout, stderr } = await runBenchScript('bench/soak.ts', ['--smoke'], 55_000);
  const output = `${stdout}\n${stderr}`;

  assert.equal(code, 0, `soak --smoke failed (exit ${code}):\n${output}`);
  assert.match(stdout, /^- pass: errors 0 /m, output);
  assert.match(stdout, /^- pass: mix held: 0 verifications found no user/m, output);

  // The windows table: its header and at least two windows, with answers of every kind and no error.
  assert.match(
    stdout,
    /^\| window \| req\/s \| guard · right · wrong \| p50 ms \| p99 ms \| errors \|/m,
    output,
  );
  const rows = [
    ...stdout.matchAll(
      /^\| \d+:\d\d–\d+:\d\d \| (\d+) \| (\d+) · (\d+) · (\d+) \| [\d.]+ \| [\d.]+ \| (\d+) \|/gm,
    ),
  ];
  assert.ok(rows.length >= 2, `fewer than two windows in:\n${stdout}`);
  const sum = (i: number) => rows.reduce((n, row) => n + Number(row[i]), 0);
  assert.ok(
    sum(2) > 0 && sum(3) > 0 && sum(4) > 0,
    `a kind of request is missing from the windows:\n${stdout}`,
  );
  assert.equal(sum(5), 0, `errors in the windows:\n${stdout}`);

  // Wrong codes were sent in the hold and refused; right codes were sent (each answered 200, or
  // errors would not be 0).
  const sent = /Sent in the hold: (\d+) guard, (\d+) right codes, (\d+) wrong codes/.exec(stdout);
  const refused = /wrong codes refused \(401 invalid_code\): (\d+) of (\d+)/.exec(stdout);
  assert.ok(sent && refused, `no mix summary in:\n${stdout}`);
  assert.ok(Number(sent[2]) > 0, `no right codes sent:\n${stdout}`);
  assert.ok(Number(refused[1]) > 0, `no wrong code refused:\n${stdout}`);
  assert.equal(refused[2], sent[3]);
  // At most the requests in flight when the load stopped go unanswered.
  assert.ok(Number(refused[2]) - Number(refused[1]) <= 10, `wrong codes without an answer:\n${stdout}`);
});
