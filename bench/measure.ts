import { fork } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { type LoadResult, type LoadSpec, runLoad } from './load.js';
import type { MemoryResult } from './memory.js';
import { addCounts, commandStats, diffCounts, redisCpuMicros } from './redis-stats.js';
import type { Machine, ScenarioResult } from './report.js';
import type { ServerProcess } from './server-process.js';

/** A scenario's measured runs being added up (latencies kept until the end, for percentiles). */
export interface Accumulator extends ScenarioResult {
  latencies: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function machine(redisVersion: string): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    redis: redisVersion,
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** The memory scenario in a process of its own with --expose-gc, so RSS and heap are the store's. */
export async function runMemoryChild(
  attempts: number,
  track: (kill: () => void) => void,
): Promise<MemoryResult> {
  const child = fork(fileURLToPath(new URL('./memory.ts', import.meta.url)), [String(attempts)], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  track(() => child.kill('SIGKILL'));
  const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
  try {
    const [result] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`memory scenario exited with ${code} before reporting`);
      }),
    ])) as [MemoryResult];
    return result;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
}

/** Waits until the server has finished what the last run sent it (its counters stop moving). */
export async function quiesce(server: ServerProcess) {
  const sent = (s: { commands: Record<string, number> }) =>
    Object.values(s.commands).reduce((a, b) => a + b, 0);
  let last = await server.stats();
  for (let i = 0; i < 100; i++) {
    await sleep(30);
    const now = await server.stats();
    if (now.requests === last.requests && sent(now) === sent(last)) return now;
    last = now;
  }
  return last;
}

export function emptyResult(name: string): Accumulator {
  return {
    name,
    responses: 0,
    statuses: {},
    ok: 0,
    non2xx: 0,
    errors: 0,
    durationS: 0,
    rps: 0,
    p50Ms: 0,
    p99Ms: 0,
    serverRequests: 0,
    redisCommands: {},
    sentCommands: {},
    // Set by the serial probe after the measured rounds; n/a in the report when it could not run.
    roundTrips: Number.NaN,
    serverCpuMicros: 0,
    serverGcMicros: 0,
    redisCpuMicros: 0,
    notes: [],
    latencies: [],
  };
}

/**
 * One measured run: settle the server (finish the previous run's work, full GC), snapshot its counters
 * and Redis's, load it, snapshot again, and add the differences to `acc`.
 */
export interface MeasureRunOptions {
  server: ServerProcess;
  admin: Redis;
  spec: LoadSpec;
  connections: number;
  durationS: number;
  maxRequests: number | undefined;
  /** Called just before the load starts (the load generator's own GC). */
  beforeRun: () => void;
  /** Called right before and right after the load itself, for readings that must cover it alone. */
  aroundLoad?: (phase: 'start' | 'end') => void;
}

export async function measureRun(acc: Accumulator, run: MeasureRunOptions): Promise<LoadResult> {
  const { server, admin } = run;
  await quiesce(server);
  await server.collectGarbage();
  run.beforeRun();
  const serverBefore = await quiesce(server);
  const redisBefore = await commandStats(admin);
  const redisCpuBefore = await redisCpuMicros(admin);
  run.aroundLoad?.('start');
  const load = await runLoad(run.spec, {
    url: server.url,
    connections: run.connections,
    durationS: run.durationS,
    maxRequests: run.maxRequests,
  });
  run.aroundLoad?.('end');
  const serverAfter = await quiesce(server);
  const redisAfter = await commandStats(admin);
  const redisCpuAfter = await redisCpuMicros(admin);
  acc.responses += load.responses;
  acc.durationS += load.durationS;
  acc.errors += load.errors;
  for (const [status, n] of Object.entries(load.statuses)) {
    const code = Number(status);
    acc.statuses[code] = (acc.statuses[code] ?? 0) + n;
    if (code >= 200 && code < 300) acc.ok += n;
    else acc.non2xx += n;
  }
  for (const ms of load.latenciesMs) acc.latencies.push(ms);
  acc.serverRequests += serverAfter.requests - serverBefore.requests;
  acc.serverCpuMicros += serverAfter.cpuMicros - serverBefore.cpuMicros;
  acc.serverGcMicros += serverAfter.gcMicros - serverBefore.gcMicros;
  acc.redisCpuMicros += redisCpuAfter - redisCpuBefore;
  addCounts(acc.redisCommands, diffCounts(redisBefore, redisAfter));
  addCounts(acc.sentCommands, diffCounts(serverBefore.commands, serverAfter.commands));
  return load;
}

/** The totals of a scenario: rate over the time answers arrived, latency percentiles over every answer. */
export function finish(acc: Accumulator): ScenarioResult {
  const sorted = Float64Array.from(acc.latencies).sort();
  const { latencies: _, ...rest } = acc;
  return {
    ...rest,
    rps: acc.durationS > 0 ? acc.responses / acc.durationS : 0,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
  };
}
