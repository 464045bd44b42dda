/**
 * `npm run bench:soak [-- flags]` (also `npm run bench -- --soak`): holds 80% of the measured peak on
 * the verify and guard routes for 10 minutes and checks that nothing drifts. One throwaway
 * redis-server, the app under test in production mode (built dist/, NODE_ENV=production) in its own
 * process, TOTP users enrolled through the real routes on two more processes, and autocannon sending
 * a steady mix (soak-mix.ts): half `GET /guard` behind requireMfa, half `POST /auth/mfa/totp/verify`,
 * one in five of those with a wrong code. Every request has one expected answer; anything else, a
 * connection error or a timeout is an error, and there must be none.
 *
 *   1. peak: a short warm-up, then an unthrottled run of the same mix measures the peak req/s;
 *   2. hold: `--load` (0.8) of the peak with autocannon's overallRate for `--minutes`; every
 *      `--window` seconds: req/s, p50/p99, errors, and after a full GC in the server its RSS and heap,
 *      Redis used_memory and DBSIZE;
 *   3. verdict: errors 0, the mix and the rate held, the last window's p99 near the first's, memory
 *      flat from the baseline (after `--baseline` seconds) to the end (soak-report.ts says how flat).
 *
 * Flags: --minutes 10, --window 30, --baseline 60, --warmup 5, --peak 10 (seconds unless noted),
 * --load 0.8, --connections 10, --users 8000 (enrolled before the peak; topped up to what the hold
 * needs), --json FILE, --smoke (seconds long, a few hundred users, a hold sized to them; exit 1 only
 * for errors and the mix, the trends are reported, not judged).
 * Exit status: 0 when every verdict passed, 1 otherwise, 2 when the watchdog stopped a stuck run.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { startRedis } from '../test/helpers/redis-server.js';
import { machine } from './measure.js';
import { productionBuild } from './production-build.js';
import { type ServerProcess, startServer } from './server-process.js';
import { GuardSessions } from './soak-guard.js';
import { keyKinds } from './soak-keys.js';
import { runMix } from './soak-load.js';
import { KINDS, SoakMix, VERIFY_SHARE } from './soak-mix.js';
import { SoakPool } from './soak-pool.js';
import { keysTable, memoryTable, verdict, windowsTable } from './soak-report.js';
import { type MemorySample, WindowRecorder } from './soak-windows.js';
import { STEP_MS } from './totp-code.js';
import { enrolUsers } from './users.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Users the pool needs to sustain `rate` req/s of the mix: a user redeems one time step (30 s) at
 * most, and a wrong code also sends it to the back of the queue until the next step; a quarter
 * more for the steps' uneven edges and users skipped for their wrong streak.
 */
const usersFor = (rate: number, connections: number) =>
  Math.ceil(rate * VERIFY_SHARE * (STEP_MS / 1000) * 1.25) + 4 * connections;
/** The inverse: the rate `users` sustain. */
const rateFor = (users: number, connections: number) =>
  Math.max(1, (users - 4 * connections) / (VERIFY_SHARE * (STEP_MS / 1000) * 1.25));

async function waitForNextStep(why: string) {
  const wait = STEP_MS - (Date.now() % STEP_MS) + 200;
  log(`  waiting ${(wait / 1000).toFixed(1)} s for the next time step (${why})`);
  await sleep(wait);
}

async function sampleMemory(server: ServerProcess, admin: Redis): Promise<MemorySample> {
  await server.collectGarbage();
  const [memory, info, keys] = await Promise.all([server.memory(), admin.info('memory'), admin.dbsize()]);
  const redisUsed = Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
  return { rss: memory.rss, heapUsed: memory.heapUsed, external: memory.external, redisUsed, keys };
}

export async function soak(argv: string[]): Promise<number> {
  const { values: flags } = parseArgs({
    args: argv,
    options: {
      smoke: { type: 'boolean', default: false },
      minutes: { type: 'string' },
      window: { type: 'string' },
      baseline: { type: 'string' },
      warmup: { type: 'string' },
      peak: { type: 'string' },
      load: { type: 'string' },
      connections: { type: 'string' },
      users: { type: 'string' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const number = (name: string, value: string | undefined, fallback: number, min: number) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got ${value}`);
    return n;
  };
  const smoke = flags.smoke ?? false;
  const holdS = number('minutes', flags.minutes, smoke ? 0.15 : 10, 0.05) * 60;
  const windowS = number('window', flags.window, smoke ? 3 : 30, 1);
  const baselineS = number('baseline', flags.baseline, smoke ? 3 : 60, 0);
  const warmupS = number('warmup', flags.warmup, smoke ? 0 : 5, 0);
  const peakS = number('peak', flags.peak, smoke ? 2 : 10, 1);
  const load = number('load', flags.load, 0.8, 0.01);
  const connections = Math.floor(number('connections', flags.connections, 10, 1));
  const initialUsers = Math.floor(number('users', flags.users, smoke ? 400 : 8000, 2 * connections));
  const windows = Math.max(1, Math.round(holdS / windowS));
  // The baseline is the sample at the end of the window that ends at or after --baseline.
  const baselineWindow = Math.min(windows - 1, Math.max(0, Math.ceil(baselineS / windowS) - 1));
  if (windows < 2 && !smoke) throw new Error('--minutes must span at least two --window periods');

  const emergencyStops: (() => void)[] = [];
  // Bounded: enrolment, the step waits, the peak and the hold; nothing may outlive a stuck run.
  const limitS = 600 + warmupS + peakS + holdS * 1.2 + 4 * (STEP_MS / 1000);
  const watchdog = setTimeout(() => {
    log(`soak: giving up after ${Math.round(limitS)} s`);
    for (const stop of emergencyStops) stop();
    process.exit(2);
  }, limitS * 1000);
  watchdog.unref();

  const redis = await startRedis();
  emergencyStops.push(() => void redis.stop());
  const admin = redis.client();
  const servers: ServerProcess[] = [];
  let mode: Parameters<typeof startServer>[0]['mode'];
  const start = async () => {
    const server = await startServer({ redisPort: redis.port, mode });
    servers.push(server);
    emergencyStops.push(() => server.kill());
    return server;
  };
  try {
    const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? '?';
    const host = machine(version);
    log(`machine: ${host.cpus} CPUs (${host.cpuModel}), node ${host.node}, redis ${host.redis}`);
    mode = { kind: 'production', ...(await productionBuild(log)) };
    const server = await start();
    log(`server: pid ${server.pid} at ${server.url} (production mode: built dist/, NODE_ENV=production)`);

    // Enrolment on two processes of their own (same Redis, same secret): both cores work, and the
    // measured server sees only the measured load. --smoke enrols its few users on the server itself.
    const enrolers = smoke ? [server] : await Promise.all([start(), start()]);
    const bases = enrolers.map((e) => e.url);
    let t0 = performance.now();
    const pool = new SoakPool(await enrolUsers(bases, initialUsers, 16, 'user-'), smoke);
    log(`enrolled ${initialUsers} TOTP users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // The guard's session is verified again every `switchS` on the next of these users, so that no
    // user is verified twice in a run (a TOTP step is accepted once per user).
    const switchS = Math.min(120, holdS / 2);
    const guard = await GuardSessions.enrol(server.url, Math.ceil(holdS / switchS) + 2);
    const mix = new SoakMix(pool, () => guard.cookie());

    // 1. Peak: the same mix, unthrottled. A run never takes more verifications than the pool has
    // users with a fresh code (maxRequests), so a short pool shortens the run, never skews it.
    // A tenth is kept for the users a wrong code skips (its wrong streak); --smoke keeps half of its
    // few users for the hold.
    const cap = () =>
      Math.max(
        connections,
        Math.floor(((smoke ? 0.5 : 0.9) * pool.capacity() - 2 * connections) / VERIFY_SHARE),
      );
    let warmupRate = 0;
    if (warmupS > 0) {
      log(`warm-up: ${warmupS} s of the mix, unthrottled`);
      const run = await runMix(mix, { url: server.url, connections, durationS: warmupS, maxRequests: cap() });
      pool.endRun();
      warmupRate = run.responses / Math.max(run.durationS, 0.001);
    }
    // (--smoke lets its few users cut the peak short rather than wait.)
    if (!smoke && pool.capacity() < warmupRate * 1.5 * peakS * VERIFY_SHARE + 2 * connections) {
      await waitForNextStep('every user fresh for the peak');
    }
    log(`peak: ${peakS} s of the mix, unthrottled (${cap()} requests at most)`);
    const peakErrorsBefore = mix.unexpectedCount;
    const peakRun = await runMix(mix, { url: server.url, connections, durationS: peakS, maxRequests: cap() });
    pool.endRun();
    const peakRate = peakRun.responses / peakRun.durationS;
    log(
      `peak: ${Math.round(peakRate)} req/s over ${peakRun.durationS.toFixed(1)} s (${peakRun.responses} answers, ${mix.unexpectedCount - peakErrorsBefore} unexpected, ${peakRun.errors} errors)`,
    );

    // 2. Hold: enough users for the target rate (--smoke instead sizes the rate to its few users).
    let targetRate = load * peakRate;
    let limitedBy = '';
    const needed = usersFor(targetRate, connections);
    if (smoke && needed > pool.size) {
      // What the users left fresh after the peak sustain until the next step (the hold may be shorter).
      const fresh = (pool.capacity() - 4 * connections) / (VERIFY_SHARE * Math.min(holdS, 30) * 1.25);
      targetRate = Math.max(1, Math.min(targetRate, rateFor(pool.size, connections), fresh));
      limitedBy = `; --smoke: limited to what ${pool.size} users sustain`;
    } else if (needed > pool.size) {
      t0 = performance.now();
      const more = needed - pool.size;
      pool.add(await enrolUsers(bases, more, 16, `user-${initialUsers}-`));
      log(`enrolled ${more} more TOTP users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    if (!smoke) for (const e of enrolers.splice(0)) await e.close();
    const userCount = pool.size;

    // Users used in the peak's step are fresh at the next one; the guard session, verified at
    // enrolment, is verified again now (it is switched every 2 minutes, requireMfa allows 5).
    await guard.switch();
    if (!smoke) await waitForNextStep('every user fresh for the hold');
    const startSample = await sampleMemory(server, admin);
    const startKeys = await keyKinds(admin);
    log(
      `hold: ${Math.round(targetRate)} req/s (${load} × peak${limitedBy}) for ${holdS} s with ${userCount} users; a window every ${windowS} s`,
    );
    const holdStart = performance.now();
    const holdStartMs = Date.now();
    const recorder = new WindowRecorder(holdStart, windowS);
    let connErrors = 0;
    const firstError: string[] = [];
    let sampling: Promise<void> = Promise.resolve();
    let windowIndex = 0;
    const sampler = setInterval(() => {
      const i = windowIndex++;
      if (i >= windows) return;
      sampling = sampling.then(async () => {
        const s = await sampleMemory(server, admin);
        recorder.sample(i, s);
        const w = recorder.result()[i]!;
        log(
          `  window ${i + 1}/${windows}: ${Math.round(w.answers / windowS)} req/s, p99 ${w.p99Ms.toFixed(2)} ms, ${w.errors} errors, RSS ${(s.rss / 2 ** 20).toFixed(1)} MB, heap ${(s.heapUsed / 2 ** 20).toFixed(1)} MB, Redis ${(s.redisUsed / 2 ** 20).toFixed(1)} MB, ${s.keys} keys`,
        );
      });
    }, windowS * 1000);
    let switching: Promise<void> = Promise.resolve();
    const switcher = setInterval(() => {
      switching = switching.then(() => guard.switch());
    }, switchS * 1000);
    const sentBefore = { ...mix.sent };
    const answeredBefore = mix.unexpectedCount + KINDS.reduce((n, k) => n + mix.expected[k], 0);
    const refusedBefore = mix.expected.wrong;
    const starvedBefore = mix.starved;
    const unexpectedBefore = mix.unexpectedCount;
    let hold: Awaited<ReturnType<typeof runMix>>;
    try {
      // One second beyond the hold, so the last window's sample is taken under load.
      hold = await runMix(mix, {
        url: server.url,
        connections,
        durationS: holdS + 1,
        overallRate: targetRate,
        onAnswer: (kind, ms, ok) => recorder.answer(kind, ms, ok),
        onError: (error) => {
          connErrors++;
          recorder.error();
          if (firstError.length < 3) firstError.push(error.message);
        },
      });
    } finally {
      clearInterval(sampler);
      clearInterval(switcher);
    }
    await sampling;
    await switching;
    pool.endRun();
    const endSample = await sampleMemory(server, admin);
    const endKeys = await keyKinds(admin);

    // 3. Verdict over the full windows of the hold.
    const result = recorder.result(windows * windowS);
    const answers = result.reduce((n, w) => n + w.answers, 0);
    const achievedRate = answers / (windows * windowS);
    const baseline = result[baselineWindow]?.sample ?? startSample;
    const lastSample = result[result.length - 1]?.sample ?? endSample;
    const holdSent = Object.fromEntries(
      KINDS.map((k) => [k, mix.sent[k] - sentBefore[k]]),
    ) as typeof mix.sent;
    const sent = KINDS.reduce((n, k) => n + holdSent[k], 0);
    const answered = mix.unexpectedCount + KINDS.reduce((n, k) => n + mix.expected[k], 0) - answeredBefore;
    const wrongSent = holdSent.wrong;
    const wrongRefused = mix.expected.wrong - refusedBefore;
    const errors = mix.unexpectedCount - unexpectedBefore + connErrors;
    const judged = verdict({
      smoke,
      windows: result,
      targetRate,
      achievedRate,
      errors,
      unanswered: sent - answered - hold.errors,
      connections,
      starved: mix.starved - starvedBefore,
      wrongSent,
      wrongRefused,
      baselineWindow,
    });
    const clockAt = (s: number) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;
    const out = [
      '',
      `## express-mfa soak${smoke ? ' (smoke)' : ''}`,
      '',
      'Server in production mode: built dist/ under node, NODE_ENV=production.',
      `${host.cpus} × ${host.cpuModel}, Node ${host.node}, Redis ${host.redis}; autocannon, ${connections} connections, pipelining 1.`,
      `Mix: half GET /guard (requireMfa(5 min), a verified session), half POST /auth/mfa/totp/verify, one in five of those with a wrong code; ${userCount} TOTP users.`,
      `Peak (unthrottled, ${peakRun.durationS.toFixed(1)} s after a ${warmupS} s warm-up): ${Math.round(peakRate)} req/s. Hold: ${Math.round(targetRate)} req/s target (${load} × peak${limitedBy}), ${Math.round(achievedRate)} req/s achieved, ${holdS} s in ${windows} windows of ${windowS} s.`,
      '',
      windowsTable(result),
      '',
      memoryTable([
        ['start (idle, before the hold)', startSample],
        [`baseline (${clockAt((baselineWindow + 1) * windowS)}, under load)`, baseline],
        [`end of the hold (${clockAt(windows * windowS)}, under load)`, lastSample],
        ['end (idle, after the hold)', endSample],
      ]),
      '',
      keysTable(startKeys, endKeys),
      '',
      `Sent in the hold: ${holdSent.guard} guard, ${holdSent.right} right codes, ${holdSent.wrong} wrong codes; wrong codes refused (401 invalid_code): ${wrongRefused} of ${wrongSent}; users dropped after a cut-off request: ${pool.lost} of ${userCount}.`,
      ...(mix.starvedAt.length > 0
        ? [
            `Verifications without a user (first ${mix.starvedAt.length}), s into the hold / into their time step: ${mix.starvedAt.map((t) => `${((t - holdStartMs) / 1000).toFixed(1)}/${((t % STEP_MS) / 1000).toFixed(1)}`).join(', ')}.`,
          ]
        : []),
      ...(mix.unexpected.length > 0
        ? [`Unexpected answers (first ${mix.unexpected.length}): ${mix.unexpected.join(' | ')}`]
        : []),
      ...(firstError.length > 0
        ? [`Connection errors (first ${firstError.length}): ${firstError.join(' | ')}`]
        : []),
      '',
      'Verdict:',
      ...judged.lines,
      '',
    ];
    process.stdout.write(out.join('\n'));
    if (flags.json) {
      writeFileSync(
        flags.json,
        JSON.stringify(
          {
            machine: host,
            settings: { smoke, holdS, windowS, baselineS, warmupS, peakS, load, connections, userCount },
            peakRate,
            targetRate,
            achievedRate,
            windows: result,
            memory: { start: startSample, baseline, endOfHold: lastSample, end: endSample },
            mix: { sent: mix.sent, expected: mix.expected, starved: mix.starved, unexpected: mix.unexpected },
            verdict: judged,
          },
          null,
          2,
        ),
      );
    }
    return judged.passed ? 0 : 1;
  } finally {
    for (const server of servers) await server.close();
    admin.disconnect();
    await redis.close();
    clearTimeout(watchdog);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  soak(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
