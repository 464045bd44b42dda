/**
 * `npm run bench:scale [-- flags]` (also `npm run bench -- --scale`): TOTP verification and the
 * session route on four configurations of the same app, measured in one invocation with interleaved
 * rounds (only same-run ratios mean anything on a shared machine), then correctness under scale:
 *
 *   redis      A: a single redis-server for sessions and MFA records, 1 process
 *   cluster    a 3-master Redis Cluster for both (one ioredis Cluster client; connect-redis 8.1 on it)
 *   postgres   MFA records in a PostgresStore, sessions in the single Redis
 *   redis ×2   the single Redis, 2 processes behind one port (Node's cluster module, round robin)
 *
 * Every server runs in production mode (built dist/, NODE_ENV=production). Users are enrolled through
 * the real routes: on the single Redis through A and the two-process server (their records are then
 * copied into PostgreSQL, so the three single-Redis variants serve the same users), on the cluster
 * through its server. The checks, on every variant: replay (one valid code sent 20 times at once from
 * 20 sessions of one user, each on a new connection so they reach both workers: exactly one 200) and
 * lockout (wrong codes at once: exactly the library's limit judged, the rest and then the right code
 * refused with too_many_attempts, on both workers).
 *
 * Flags: --smoke (a few hundred users, ~0.5 s per run, verifications capped at 100 per run), --warmup 3,
 * --duration 10 (measured seconds per scenario and variant, split over the rounds), --rounds 5,
 * --connections 10, --users 10000 (single-Redis pool), --cluster-users 4000, --replay 20.
 * Exit status 1 when an answer was not 2xx or a check failed.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { copyRecords } from './copy-records.js';
import { runLoad } from './load.js';
import { LookaheadTotpRotation } from './lookahead-rotation.js';
import { finish, machine, quiesce } from './measure.js';
import { numberFlag } from './number-flag.js';
import { productionBuild } from './production-build.js';
import { type CheckResult, LOCKOUT_LIMIT, lockoutCheck, replayCheck } from './scale-checks.js';
import {
  checksTable,
  type ScaleAccumulator,
  type ScaleRow,
  scaleTable,
  utilisationTable,
} from './scale-report.js';
import { scaleAccumulator, scaleRun } from './scale-run.js';
import { BASELINE, startStores, startVariants, type UserPool, type Variant } from './scale-variants.js';
import { createScenarios, type HttpScenario } from './scenarios.js';
import type { ServerProcess } from './server-process.js';
import { enrolUser, enrolUsers, reverify, TotpRotation } from './users.js';

const SCENARIOS = ['session', 'totp-verify'] as const satisfies readonly HttpScenario[];
/** --smoke: verifications per run, so one 30 s time step's users serve every variant once. */
const SMOKE_CAP = 100;

function settings(args: string[]) {
  const { values: flags } = parseArgs({
    args,
    options: {
      scale: { type: 'boolean' }, // `npm run bench -- --scale` hands its flags over as they are
      smoke: { type: 'boolean', default: false },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      users: { type: 'string' },
      'cluster-users': { type: 'string' },
      replay: { type: 'string' },
    },
    strict: true,
  });
  const smoke = flags.smoke ?? false;
  const rounds = Math.floor(numberFlag('rounds', flags.rounds, smoke ? 1 : 5, 1));
  return {
    smoke,
    warmupS: numberFlag('warmup', flags.warmup, smoke ? 0 : 3, 0),
    durationS: numberFlag('duration', flags.duration, smoke ? 0.5 : 10, 0.1),
    rounds,
    connections: Math.floor(numberFlag('connections', flags.connections, 10, 1)),
    users: Math.floor(numberFlag('users', flags.users, smoke ? 500 : 10_000, 1)),
    clusterUsers: Math.floor(numberFlag('cluster-users', flags['cluster-users'], smoke ? 250 : 4_000, 1)),
    replay: Math.floor(numberFlag('replay', flags.replay, 20, 2)),
  };
}
type Settings = ReturnType<typeof settings>;

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(s: Settings, emergencyStops: (() => void)[]): Promise<number> {
  // The load generator collects its garbage before each run too, as bench/run.ts does.
  setFlagsFromString('--expose-gc');
  const collectOwnGarbage = runInNewContext('gc') as () => void;

  const t0 = performance.now();
  const stores = await startStores((stop) => emergencyStops.push(stop));
  const servers: ServerProcess[] = [];
  try {
    const redisVersion = /redis_version:(\S+)/.exec(await stores.admin.info('server'))?.[1] ?? '?';
    const pgVersion = String((await stores.pool.query('SHOW server_version')).rows[0].server_version).split(
      ' ',
    )[0]!;
    const host = machine(redisVersion);
    log(
      `machine: ${host.cpus} CPUs (${host.cpuModel}), node ${host.node}, redis ${host.redis}, PostgreSQL ${pgVersion}`,
    );
    const mode = { kind: 'production' as const, ...(await productionBuild(log)) };
    const variants = await startVariants(stores, mode, (server) => {
      servers.push(server);
      emergencyStops.push(() => server.kill());
    });
    const byName = (name: string) => variants.find((v) => v.name === name)!;
    log(`stores and servers started in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const v of variants) log(`${v.name}: pid ${v.server.pid} at ${v.server.url}`);

    // Enrolment through the real routes, each pool on servers of its own stores.
    const t1 = performance.now();
    const onRedis = [byName(BASELINE).server.url, byName('redis ×2').server.url];
    const onCluster = [byName('cluster').server.url];
    const [redisUsers, clusterUsers, redisGuard, clusterGuard] = await Promise.all([
      enrolUsers(onRedis, s.users, 16, 'user-'),
      enrolUsers(onCluster, s.clusterUsers, 8, 'user-'),
      enrolUser(onRedis[0]!, 'guard-user'),
      enrolUser(onCluster[0]!, 'guard-user'),
    ]);
    const copied = await copyRecords(stores.admin, stores.pool);
    log(
      `enrolled ${s.users} users on the single Redis (${copied} records copied to PostgreSQL) and ${s.clusterUsers} on the cluster in ${((performance.now() - t1) / 1000).toFixed(1)} s`,
    );

    const pools = new Map(
      (
        [
          ['redis', redisUsers, redisGuard, onRedis[0]!],
          ['cluster', clusterUsers, clusterGuard, onCluster[0]!],
        ] as const
      ).map(([pool, users, guard, url]) => {
        const rotation = s.smoke ? new LookaheadTotpRotation(users) : new TotpRotation(users);
        let elevatedAt = Date.now();
        const scenarios = createScenarios({
          connections: s.connections,
          totpRotation: rotation,
          backupRotation: undefined,
          passkeyRotation: undefined,
          signInRotation: undefined,
          floorRotation: undefined,
          floorPasskeyRotation: undefined,
          preparerUrl: url,
          // The session scenario's cookie is a verified session: re-verified before 5 minutes pass.
          freshCookie: async () => {
            if (Date.now() - elevatedAt > 3 * 60_000) {
              await reverify(url, guard);
              elevatedAt = Date.now();
            }
            return guard.cookie;
          },
          log,
        });
        return [pool as UserPool, { rotation, scenarios }];
      }),
    );

    const prepare = async (v: Variant, name: (typeof SCENARIOS)[number], seconds: number) => {
      // (--smoke sizes its short runs by the cap, so no run waits for the next time step.)
      const { spec, maxRequests } = await pools.get(v.pool)!.scenarios.prepare(name, s.smoke ? 0 : seconds);
      return {
        spec,
        maxRequests: s.smoke && maxRequests !== undefined ? Math.min(maxRequests, SMOKE_CAP) : maxRequests,
      };
    };

    if (s.warmupS > 0) {
      for (const name of SCENARIOS) {
        for (const v of variants) {
          log(`warm-up ${name} on ${v.name} (${s.warmupS} s)`);
          const { spec, maxRequests } = await prepare(v, name, s.warmupS);
          if (maxRequests !== undefined && maxRequests < s.connections) continue;
          const load = await runLoad(spec, {
            url: v.server.url,
            connections: s.connections,
            durationS: s.warmupS,
            maxRequests,
          });
          pools.get(v.pool)!.scenarios.observed(name, load);
          await quiesce(v.server);
        }
      }
    }

    const results = new Map<string, ScaleAccumulator>();
    for (const v of variants) {
      for (const name of SCENARIOS) results.set(`${v.name}|${name}`, scaleAccumulator(v.name, name));
    }

    const segmentS = s.durationS / s.rounds;
    for (let round = 1; round <= s.rounds; round++) {
      // Every scenario and every variant takes every position over the rounds (after a heavy run,
      // after a light one): the order favours none of them.
      const shiftS = (round - 1) % SCENARIOS.length;
      const shiftV = (round - 1) % variants.length;
      for (const name of [...SCENARIOS.slice(shiftS), ...SCENARIOS.slice(0, shiftS)]) {
        for (const v of [...variants.slice(shiftV), ...variants.slice(0, shiftV)]) {
          const acc = results.get(`${v.name}|${name}`)!;
          const { spec, maxRequests } = await prepare(v, name, segmentS);
          if (maxRequests !== undefined && maxRequests < s.connections) {
            acc.notes.push(`round ${round} skipped: no users left (raise --users)`);
            continue;
          }
          const load = await scaleRun(acc, v, {
            round,
            admin: stores.admin,
            spec,
            connections: s.connections,
            durationS: segmentS,
            maxRequests,
            beforeRun: collectOwnGarbage,
          });
          const rps = acc.roundRps[round - 1]!;
          pools.get(v.pool)!.scenarios.observed(name, load);
          log(`round ${round} ${name} on ${v.name}: ${Math.round(rps)} req/s, ${load.responses} answers`);
        }
      }
    }

    // Correctness under scale, on every variant, after the load.
    const checks: CheckResult[] = [];
    for (const v of variants) {
      const tag = v.name.replace(/\W+/g, '-');
      checks.push(await replayCheck(v.server, v.name, `replay-${tag}`, s.replay));
      checks.push(await lockoutCheck(v.server, v.name, `lockout-${tag}`));
      log(
        `checks on ${v.name}: ${checks
          .slice(-2)
          .map((c) => `${c.check} ${c.passed ? 'pass' : 'FAIL'}`)
          .join(', ')}`,
      );
    }

    const rows: ScaleRow[] = [...results.values()].map((acc) => ({ acc, summary: finish(acc) }));
    for (const [pool, { rotation }] of pools) {
      if (rotation.exhausted > 0 || rotation.failures.length > 0) {
        rows
          .find((r) => r.acc.scenario === 'totp-verify' && byName(r.acc.variant).pool === pool)
          ?.acc.notes.push(
            `${rotation.exhausted} requests found no usable user; first failures: ${rotation.failures.join(' | ')}`,
          );
      }
    }
    const all2xx = rows.every(
      (r) => r.summary.responses > 0 && r.summary.non2xx === 0 && r.summary.errors === 0,
    );
    const passed = checks.every((c) => c.passed);
    const growth = (name: string) => {
      const one = rows.find((r) => r.acc.variant === BASELINE && r.acc.scenario === name)!.summary;
      const two = rows.find((r) => r.acc.variant === 'redis ×2' && r.acc.scenario === name)!.summary;
      return `${(two.rps / one.rps).toFixed(2)} × in req/s, ${(two.serverCpuMicros / two.serverRequests / (one.serverCpuMicros / one.serverRequests)).toFixed(2)} × the server CPU per request`;
    };
    const out = [
      '',
      `## express-mfa scale benchmark${s.smoke ? ' (smoke)' : ''}`,
      '',
      'Server in production mode: built dist/ under node, NODE_ENV=production.',
      `${host.cpus} × ${host.cpuModel}, Node ${host.node}, Redis ${host.redis}, PostgreSQL ${pgVersion}; autocannon in the bench process, ${s.connections} connections, pipelining 1;`,
      `warm-up ${s.warmupS} s discarded, then ${s.durationS} s per scenario and variant measured in ${s.rounds} interleaved round(s).`,
      '',
      ...variants.map((v) => `- ${v.name}: ${v.description}`),
      '',
      scaleTable(rows, BASELINE),
      '',
      `Where the cores went while each ran (CPU seconds per second of load; ${host.cpus} cores in all):`,
      '',
      utilisationTable(rows, host.cpus),
      '',
      `2 processes vs 1 on the same Redis: totp-verify ${growth('totp-verify')}; session ${growth('session')}.`,
      '',
      `Correctness under scale (lockout limit ${LOCKOUT_LIMIT}, the library's default):`,
      '',
      checksTable(checks),
      '',
      ...rows.flatMap((r) => r.acc.notes.map((n) => `- ${r.acc.variant} ${r.acc.scenario}: ${n}`)),
      `Checks: ${checks.filter((c) => c.passed).length} of ${checks.length} passed${passed ? '' : ' (FAILED)'}; every answer 2xx in the measured runs: ${all2xx ? 'yes' : 'NO'}.`,
      '',
    ];
    process.stdout.write(out.join('\n'));
    return all2xx && passed ? 0 : 1;
  } finally {
    for (const server of servers) await server.close();
    await stores.close();
  }
}

/** Runs the scale benchmark with command-line `args`; resolves with the exit status. */
export async function runScale(args: string[]): Promise<number> {
  const s = settings(args);
  const emergencyStops: (() => void)[] = [];
  // Bounded: nothing may outlive a stuck run (enrolment, waits for time steps, a hung check).
  // Start-up, enrolment (well over 50 users/s), the runs of 4 variants, a time-step wait per
  // verification run at most, the checks.
  const limitS =
    240 +
    (s.users + s.clusterUsers) / 50 +
    (s.warmupS + s.durationS) * SCENARIOS.length * 4 +
    (s.rounds + 1) * 4 * 31 +
    120;
  const watchdog = setTimeout(() => {
    log(`bench:scale: giving up after ${limitS} s`);
    for (const stop of emergencyStops) stop();
    process.exit(2);
  }, limitS * 1000);
  watchdog.unref();
  try {
    return await main(s, emergencyStops);
  } catch (error) {
    console.error(error);
    return 1;
  } finally {
    clearTimeout(watchdog);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runScale(process.argv.slice(2));
}
