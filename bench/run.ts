/**
 * `npm run bench [-- flags]`: starts a throwaway redis-server, the app under test in its own process
 * (bench/server.ts), pre-enrols users through the real routes, loads every HTTP scenario with
 * autocannon (warm-up discarded, then measured rounds interleaved across scenarios, in a rotating
 * order, so a noisy machine affects them alike), runs the memory scenario in a process of its own,
 * and prints one markdown table. Pieces: scenarios.ts (what each sends), measure.ts (one measured run),
 * users.ts (enrolment and per-request users), report.ts (the tables and the targets).
 *
 * The server under test runs what users run: the built dist/ (rebuilt when lib/ is newer) under plain
 * node with NODE_ENV=production; `--dev` serves the TypeScript source through tsx instead (labelled
 * "dev mode" with the figures).
 *
 * Flags (seconds unless noted):
 *   --dev                 the TypeScript source under tsx, without NODE_ENV=production
 *   --smoke               ~1 s per scenario, 50k memory attempts; exit 1 unless every answer was 2xx
 *                         and memory stayed bounded (targets are reported, not enforced)
 *   --warmup 3            warm-up per scenario (discarded)
 *   --duration 10         measured time per scenario, split over the rounds
 *   --rounds 5            measured rounds; each runs every scenario for duration/rounds
 *   --connections 10
 *   --users 12000         users pre-enrolled for totp-verify / backup-verify
 *   --passkey-users 5000  users pre-enrolled with TOTP and a passkey, for passkey-verify
 *   --signin-users 6000   users pre-enrolled with TOTP, for signin-verify
 *   --memory-attempts 1000000
 *   --only a,b            run only these scenarios (hello,session,guard,totp-verify,floor-verify,floor-totp-verify,floor-passkey-verify,
 *                         passkey-verify,signin-verify,memory,cold-start)
 *   --profile DIR         run the server under `node --cpu-prof`, profile written to DIR
 *   --no-auto-pipelining  the server's ioredis client without enableAutoPipelining (the README turns it on)
 *   --compare PATH        A/B: a second server built from another copy of the library (PATH to its
 *                         index.ts), measured interleaved with the first; rows marked "(B)"
 *   --compare-auto-pipelining   B with the other auto-pipelining setting than A (B = this library if no --compare)
 *   --compare-otel        B mounts express-mfa/opentelemetry (counters and verify spans) on a real
 *                         OpenTelemetry SDK (a metric reader and a span processor, no network export)
 *   --compare-postgres    B keeps its MFA records in a PostgresStore on a throwaway PostgreSQL (sessions
 *                         stay in Redis); the users enrolled on Redis are copied over first. No
 *                         passkey-verify for B (its challenges are prepared on a Redis server).
 *   --json FILE           also write the raw results as JSON
 *   --scale               the scale figures instead (bench/scale.ts: its own flags follow)
 * Exit status: 1 when an answer was not 2xx, a connection failed or memory grew unbounded; 0 otherwise.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { generateSync } from 'otplib';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres-server.js';
import { startRedis } from '../test/helpers/redis-server.js';
import { type ColdImport, coldImport, coldImportLines } from './cold-import.js';
import { copyRecords } from './copy-records.js';
import { floorPasskeyBody } from './floor-passkey.js';
import { FloorRotation, floorUsers } from './floor-rotation.js';
import { runLoad } from './load.js';
import {
  type Accumulator,
  emptyResult,
  finish,
  machine,
  measureRun,
  quiesce,
  runMemoryChild,
} from './measure.js';
import type { MemoryResult } from './memory.js';
import { numberFlag } from './number-flag.js';
import { enrolPasskeyUser, PasskeyRotation } from './passkeys.js';
import { productionBuild } from './production-build.js';
import { commandDetail, comparison, memoryDetail, table, targets } from './report.js';
import { createScenarios, HTTP_SCENARIOS } from './scenarios.js';
import { type ServerMode, type ServerProcess, startServer } from './server-process.js';
import { SignInRotation } from './sign-ins.js';
import { totpCode } from './totp-code.js';
import { BackupRotation, type BenchUser, enrolUser, enrolUsers, reverify, TotpRotation } from './users.js';

// `--scale`: the scale figures are a run of their own (bench/scale.ts), with flags of their own.
if (process.argv.includes('--scale')) {
  const { runScale } = await import('./scale.js');
  process.exit(await runScale(process.argv.slice(2)));
}
// `--soak` is a mode of its own (bench/soak.ts): hand over before this file's flags are parsed.
if (process.argv.includes('--soak')) {
  const { soak } = await import('./soak.js');
  process.exit(await soak(process.argv.slice(2).filter((arg) => arg !== '--soak')));
}

const ALL = [...HTTP_SCENARIOS, 'memory', 'cold-start'] as const;

const { values: flags } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    dev: { type: 'boolean', default: false },
    warmup: { type: 'string' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string' },
    users: { type: 'string' },
    'passkey-users': { type: 'string' },
    'signin-users': { type: 'string' },
    'memory-attempts': { type: 'string' },
    only: { type: 'string' },
    profile: { type: 'string' },
    'no-auto-pipelining': { type: 'boolean', default: false },
    compare: { type: 'string' },
    'compare-auto-pipelining': { type: 'boolean', default: false },
    'compare-postgres': { type: 'boolean', default: false },
    'compare-otel': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
  strict: true,
});

const smoke = flags.smoke ?? false;
const warmupS = numberFlag('warmup', flags.warmup, smoke ? 0 : 3, 0);
const durationS = numberFlag('duration', flags.duration, smoke ? 1 : 10, 0.1);
const rounds = Math.floor(numberFlag('rounds', flags.rounds, smoke ? 1 : 5, 1));
const connections = Math.floor(numberFlag('connections', flags.connections, 10, 1));
const userCount = Math.floor(numberFlag('users', flags.users, smoke ? 400 : 12_000, 1));
const passkeyUserCount = Math.floor(
  numberFlag('passkey-users', flags['passkey-users'], smoke ? 200 : 5_000, 1),
);
const signInUserCount = Math.floor(numberFlag('signin-users', flags['signin-users'], smoke ? 200 : 6_000, 1));
const memoryAttempts = Math.floor(
  numberFlag('memory-attempts', flags['memory-attempts'], smoke ? 50_000 : 1_000_000, 1),
);
const only = flags.only ? new Set(flags.only.split(',').map((s) => s.trim())) : new Set<string>(ALL);
for (const name of only) {
  if (!(ALL as readonly string[]).includes(name))
    throw new Error(`--only: unknown scenario ${name} (${ALL.join(', ')})`);
}
const scenarios = HTTP_SCENARIOS.filter((s) => only.has(s));
const segmentS = durationS / rounds;
const comparePostgres = flags['compare-postgres'] ?? false;
if (comparePostgres && (flags.compare !== undefined || flags['compare-auto-pipelining'])) {
  throw new Error(
    '--compare-postgres is a B variant of its own: not with --compare or --compare-auto-pipelining',
  );
}
const compareOtel = flags['compare-otel'] ?? false;
const compare =
  flags.compare !== undefined || flags['compare-auto-pipelining'] || comparePostgres || compareOtel;

/** Kills what this run started, synchronously: for the watchdog, which exits right after. */
const emergencyStops: (() => void)[] = [];

// The load generator collects its garbage between runs too (the server does on request), so no
// scenario pays for what the previous one left behind. `--expose-gc` set at run time, for `tsx bench/run.ts`.
setFlagsFromString('--expose-gc');
const collectOwnGarbage = runInNewContext('gc') as () => void;

const log = (line: string) => process.stderr.write(`${line}\n`);

/** One server under test: the library as it is (A), or the --compare one (B). */
interface Variant {
  suffix: string;
  server: ServerProcess;
  /** B of --compare-postgres: records in PostgreSQL. */
  postgres?: boolean;
}

/** passkey-verify's challenges and signin-verify's sign-ins are prepared on a Redis-backed server: a PostgreSQL B cannot redeem them. */
const runsOn = (name: string, v: { suffix: string }) =>
  !(comparePostgres && v.suffix && (name === 'passkey-verify' || name === 'signin-verify'));
const dev = flags.dev ?? false;
const modeLabel = dev
  ? 'dev mode: lib/ TypeScript source under tsx, NODE_ENV unset'
  : 'production mode: built dist/ under node, NODE_ENV=production';

async function main(): Promise<number> {
  const redis = await startRedis();
  emergencyStops.push(() => void redis.stop());
  const admin = redis.client();
  const servers: ServerProcess[] = [];
  let database: TestPostgres | undefined;
  try {
    if (comparePostgres) {
      database = await startPostgres();
      const db = database;
      emergencyStops.push(() => void db.stop());
    }
    const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? '?';
    const host = machine(version);
    log(`machine: ${host.cpus} CPUs (${host.cpuModel}), node ${host.node}, redis ${host.redis}`);
    const mode: ServerMode = dev ? { kind: 'dev' } : { kind: 'production', ...(await productionBuild(log)) };
    log(`mode: ${modeLabel}`);
    log(
      `settings: ${smoke ? 'smoke, ' : ''}warm-up ${warmupS} s, measured ${durationS} s per scenario in ${rounds} round(s), ${connections} connections`,
    );
    // Our TOTP codes must be otplib's (the library's), or every verification would fail.
    const probe = Buffer.from('12345678901234567890');
    if (totpCode(probe, 1) !== generateSync({ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', epoch: 30 })) {
      throw new Error('bench TOTP codes do not match otplib');
    }

    const start = async (options: {
      lib?: string;
      autoPipelining?: boolean;
      otel?: boolean;
      cpuProfDir?: string;
      databaseUrl?: string;
    }) => {
      const server = await startServer({ redisPort: redis.port, mode, ...options });
      servers.push(server);
      emergencyStops.push(() => server.kill());
      return server;
    };
    // The servers under test start while users are enrolled (they stay idle meanwhile).
    if (flags.compare?.endsWith('.ts') && !dev) {
      throw new Error(
        "--compare: production mode loads built JavaScript; give the other checkout's dist/index.js (build it first), or add --dev",
      );
    }
    const lib = flags.compare === undefined ? undefined : pathToFileURL(resolve(flags.compare)).href;
    const starting = Promise.all([
      start({ autoPipelining: !flags['no-auto-pipelining'], cpuProfDir: flags.profile }),
      ...(compare
        ? [
            start({
              lib,
              autoPipelining: !flags['no-auto-pipelining'] !== flags['compare-auto-pipelining'],
              databaseUrl: database?.url,
              otel: compareOtel,
            }),
          ]
        : []),
    ]);
    starting.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile

    // Pre-enrolment through the real routes, on two server processes of their own (same Redis, same
    // secret): it uses both cores, and the measured server's profile holds only the measured load.
    const needUsers = scenarios.includes('totp-verify') || scenarios.includes('backup-verify');
    const needPasskeys = scenarios.includes('passkey-verify');
    const needSignIns = scenarios.includes('signin-verify');
    let signInRotation: SignInRotation | undefined;
    let totpRotation: TotpRotation | undefined;
    let backupRotation: BackupRotation | undefined;
    let passkeyRotation: PasskeyRotation | undefined;
    // passkey-verify's assertions are prepared between runs on a server other than the measured one.
    let preparer: ServerProcess | undefined;
    if (needUsers || needPasskeys || needSignIns) {
      const t0 = performance.now();
      // (--smoke enrols its few users on the server under test: two more processes would cost more.)
      const enrolers = smoke
        ? [(await starting)[0]]
        : await Promise.all([0, 1].map(() => startServer({ redisPort: redis.port, mode })));
      if (!smoke) for (const e of enrolers) emergencyStops.push(() => e.kill());
      const bases = enrolers.map((e) => e.url);
      try {
        if (needUsers) {
          const users = await enrolUsers(bases, userCount, 16, 'user-');
          totpRotation = new TotpRotation(users);
          backupRotation = new BackupRotation(users);
        }
        if (needPasskeys) {
          const users = await enrolUsers(bases, passkeyUserCount, 16, 'passkey-', enrolPasskeyUser);
          passkeyRotation = new PasskeyRotation(users);
        }
        if (needSignIns) {
          signInRotation = new SignInRotation(await enrolUsers(bases, signInUserCount, 16, 'signin-'));
        }
        if (needPasskeys || needSignIns) {
          preparer = smoke ? undefined : enrolers[0];
          if (preparer) servers.push(preparer); // closed with the servers under test
        }
      } finally {
        if (!smoke) await Promise.all(enrolers.filter((e) => e !== preparer).map((e) => e.close()));
      }
      const seconds = (performance.now() - t0) / 1000;
      log(
        `enrolled ${needUsers ? userCount : 0} TOTP users (/bench/login + /totp/setup + /totp/confirm), ${needPasskeys ? passkeyUserCount : 0} passkey users (also /webauthn/register/*) and ${needSignIns ? signInUserCount : 0} sign-in users in ${seconds.toFixed(1)} s`,
      );
    }

    let pgVersion = '';
    if (database) {
      const t0 = performance.now();
      const pool = database.pool();
      pgVersion = String((await pool.query('SHOW server_version')).rows[0].server_version).split(' ')[0]!;
      const copied = await copyRecords(admin, pool);
      log(
        `copied ${copied} MFA records from Redis to PostgreSQL ${pgVersion} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    }

    const [a, b] = await starting;
    const variants: Variant[] = [
      { suffix: '', server: a },
      ...(b ? [{ suffix: ' (B)', server: b, postgres: comparePostgres }] : []),
    ];
    for (const v of variants) {
      log(
        `server${v.suffix}: pid ${v.server.pid} at ${v.server.url}${v === variants[1] && lib ? ` (library ${lib})` : ''}`,
      );
    }
    const primaryServer = variants[0]!.server;

    // The floors repeat no code, so a few sessions serve any run (10 connections, one request each at a time).
    const floorSessions = scenarios.some((s) => s.startsWith('floor-'))
      ? await floorUsers([primaryServer.url], connections * 20)
      : [];
    const floorRotation =
      scenarios.includes('floor-verify') || scenarios.includes('floor-totp-verify')
        ? new FloorRotation(floorSessions)
        : undefined;
    const floorPasskeyRotation = scenarios.includes('floor-passkey-verify')
      ? new FloorRotation(floorSessions, await floorPasskeyBody(primaryServer.url, floorSessions[0]!.cookie))
      : undefined;
    const needGuardUser = scenarios.includes('session') || scenarios.includes('guard');
    let guardUser: BenchUser | undefined;
    let elevatedAt = 0;
    if (needGuardUser) {
      guardUser = await enrolUser(primaryServer.url, 'guard-user');
      elevatedAt = Date.now();
    }

    /** The session and guard scenarios share one verified session; re-verify before requireMfa(5 min) lapses. */
    async function freshCookie(): Promise<string> {
      if (!guardUser) throw new Error('no guard user');
      if (Date.now() - elevatedAt > 3 * 60_000) {
        await reverify(primaryServer.url, guardUser);
        elevatedAt = Date.now();
      }
      return guardUser.cookie;
    }

    const scenarioSpecs = createScenarios({
      connections,
      totpRotation,
      backupRotation,
      passkeyRotation,
      signInRotation,
      floorRotation,
      floorPasskeyRotation,
      preparerUrl: (preparer ?? primaryServer).url,
      freshCookie,
      log,
    });
    const prepare = scenarioSpecs.prepare;

    const results = new Map<string, Accumulator>();
    for (const name of scenarios) {
      for (const v of variants) {
        if (runsOn(name, v)) results.set(name + v.suffix, emptyResult(name + v.suffix));
      }
    }

    if (warmupS > 0) {
      for (const name of scenarios) {
        for (const v of variants.filter((v) => runsOn(name, v))) {
          log(`warm-up ${name}${v.suffix} (${warmupS} s)`);
          const { spec, maxRequests } = await prepare(name, warmupS);
          if (maxRequests !== undefined && maxRequests < connections) continue;
          const load = await runLoad(spec, {
            url: v.server.url,
            connections,
            durationS: warmupS,
            maxRequests,
          });
          scenarioSpecs.observed(name, load);
          await quiesce(v.server);
        }
      }
    }

    for (let round = 1; round <= rounds; round++) {
      // Each round starts one scenario further on, so over the rounds every scenario runs in every
      // position (after a fast one, after a heavy one): the order does not favour any of them.
      const shift = (round - 1) % scenarios.length;
      for (const name of [...scenarios.slice(shift), ...scenarios.slice(0, shift)]) {
        // With an A/B comparison, alternate which goes first.
        for (const v of (round % 2 === 1 ? variants : [...variants].reverse()).filter((v) =>
          runsOn(name, v),
        )) {
          const acc = results.get(name + v.suffix)!;
          const { spec, maxRequests } = await prepare(name, segmentS);
          if (maxRequests !== undefined && maxRequests < connections) {
            acc.notes.push(`round ${round} skipped: no users left (raise --users)`);
            continue;
          }
          const load = await measureRun(acc, {
            server: v.server,
            admin,
            spec,
            connections,
            durationS: segmentS,
            maxRequests,
            beforeRun: collectOwnGarbage,
          });
          scenarioSpecs.observed(name, load);
          if (load.capped)
            acc.notes.push(`round ${round} stopped at ${load.responses} requests (users available)`);
          log(
            `round ${round} ${name}${v.suffix}: ${Math.round(load.responses / load.durationS)} req/s over ${load.durationS.toFixed(1)} s, ${load.responses} answers`,
          );
        }
      }
    }

    // Round trips per request: a short serial probe per scenario (one connection, so no other request's
    // commands share a synchronous turn), outside the measured rounds.
    for (const name of scenarios) {
      for (const v of variants.filter((v) => runsOn(name, v))) {
        const { spec, maxRequests } = await prepare(name, 1);
        const probe = Math.min(50, maxRequests ?? 50);
        if (probe < 1) {
          results
            .get(name + v.suffix)!
            .notes.push('round trips not probed: no user had a code left to verify');
          continue;
        }
        const before = await quiesce(v.server);
        await runLoad(spec, { url: v.server.url, connections: 1, durationS: 5, maxRequests: probe });
        const after = await quiesce(v.server);
        const requests = after.requests - before.requests;
        results.get(name + v.suffix)!.roundTrips =
          requests > 0 ? (after.roundTrips - before.roundTrips) / requests : Number.NaN;
      }
    }

    for (const [rotation, name] of [
      [totpRotation, 'totp-verify'],
      [backupRotation, 'backup-verify'],
      [passkeyRotation, 'passkey-verify'],
      [signInRotation, 'signin-verify'],
    ] as const) {
      if (rotation && (rotation.exhausted > 0 || rotation.failures.length > 0)) {
        results
          .get(name)
          ?.notes.push(
            `${rotation.exhausted} requests found no usable user; first failures: ${rotation.failures.join(' | ')}`,
          );
      }
    }
    const finished = [...results.values()].map(finish);

    for (const server of servers.splice(0)) await server.close();
    if (flags.profile) log(`server CPU profile written to ${flags.profile}`);

    let memory: MemoryResult | undefined;
    if (only.has('memory')) {
      log(`memory: ${memoryAttempts} attempts against a MemoryStore`);
      memory = await runMemoryChild(memoryAttempts, (kill) => emergencyStops.push(kill));
    }

    // Last, with the load over: fresh processes importing the built package (bench/cold-import.ts).
    let cold: ColdImport | undefined;
    // Of the built package only: dev mode (no build) skips it.
    if (only.has('cold-start') && !dev) {
      log('cold-start: import express vs express-mfa in fresh processes');
      cold = coldImport(smoke ? 3 : 21);
    }

    const primary = finished.filter((r) => !r.name.endsWith(' (B)'));
    const verdict = targets(primary, memory, cold);
    const out = [
      '',
      `## express-mfa benchmark${smoke ? ' (smoke)' : ''}`,
      '',
      `Server in ${modeLabel}.`,
      `${host.cpus} × ${host.cpuModel}, Node ${host.node}, Redis ${host.redis}; autocannon, ${connections} connections, pipelining 1;`,
      `warm-up ${warmupS} s discarded, then ${durationS} s per scenario measured in ${rounds} interleaved round(s).`,
      '',
      table(finished, memory),
      '',
      commandDetail(finished),
      '',
      ...(memory ? [memoryDetail(memory), ''] : []),
      ...(cold ? [...coldImportLines(cold), ''] : []),
      ...(comparePostgres
        ? [
            `B: MFA records in a PostgresStore (PostgreSQL ${pgVersion}, pool of 10, fsync off as in the tests), sessions in Redis as in A.`,
            '',
          ]
        : []),
      ...(compareOtel
        ? [
            'B: express-mfa/opentelemetry mounted (counters from the events, a span per verification) on the OpenTelemetry SDK (MeterProvider with a metric reader, BasicTracerProvider with a span processor; nothing exported over the network).',
            '',
          ]
        : []),
      ...(compare ? [comparison(finished), ''] : []),
      ...finished.flatMap((r) => r.notes.map((n) => `- ${r.name}: ${n}`)),
      'Targets:',
      ...verdict.lines,
      '',
    ];
    process.stdout.write(out.join('\n'));
    if (flags.json) {
      writeFileSync(
        flags.json,
        JSON.stringify(
          {
            machine: host,
            settings: {
              mode: dev ? 'dev' : 'production',
              smoke,
              warmupS,
              durationS,
              rounds,
              connections,
              userCount,
              memoryAttempts,
            },
            results: finished,
            memory,
            coldStart: cold,
          },
          null,
          2,
        ),
      );
    }

    const correct =
      finished.every((r) => r.responses > 0 && r.non2xx === 0 && r.errors === 0) && (memory?.bounded ?? true);
    return correct ? 0 : 1;
  } finally {
    for (const server of servers) await server.close();
    admin.disconnect();
    await redis.close();
    await database?.close();
  }
}

// Bounded: nothing here may outlive a stuck run (enrolment, waits for time steps, the memory run).
const limitS = 300 + (warmupS + durationS) * HTTP_SCENARIOS.length * (compare ? 2 : 1) + rounds * 31 + 600;
const watchdog = setTimeout(() => {
  log(`bench: giving up after ${limitS} s`);
  for (const stop of emergencyStops) stop();
  process.exit(2);
}, limitS * 1000);
watchdog.unref();

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
