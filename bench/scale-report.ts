import type { Accumulator } from './measure.js';
import type { ScenarioResult } from './report.js';
import type { CheckResult } from './scale-checks.js';
import type { CpuUse } from './scale-cpu.js';

/** One variant's scenario over the measured rounds: measureRun's totals plus where the CPU went. */
export interface ScaleAccumulator extends Accumulator {
  variant: string;
  scenario: string;
  /** req/s of each round (undefined for a round it skipped). */
  roundRps: (number | undefined)[];
  /**
   * CPU over the loads alone (from right before to right after each), µs, added up: the app's per
   * process (a several-process server's primary first), the Redis servers it uses (every master of
   * the cluster), PostgreSQL (postmaster and backends), the load generator, the whole machine.
   */
  cpu: CpuUse;
  /** Requests each worker of a several-process server answered, by pid. */
  workerRequests: Map<number, number>;
}

/** An empty total of CPU use. */
export const noCpu = (): CpuUse => ({
  machine: 0,
  load: 0,
  app: new Map(),
  redis: 0,
  postgres: 0,
});

export function addCpu(into: CpuUse, more: CpuUse): void {
  into.machine += more.machine;
  into.load += more.load;
  into.redis += more.redis;
  into.postgres += more.postgres;
  for (const [pid, micros] of more.app) into.app.set(pid, (into.app.get(pid) ?? 0) + micros);
}

export interface ScaleRow {
  acc: ScaleAccumulator;
  summary: ScenarioResult;
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const perRequest = (micros: number, r: ScaleRow) => micros / r.summary.serverRequests;
/** Cores busy on average while answers came (a run capped by its users idles until autocannon's next tick). */
const cores = (micros: number, r: ScaleRow) => micros / (r.summary.durationS * 1e6);

function baselineOf(rows: ScaleRow[], row: ScaleRow, baseline: string): ScaleRow | undefined {
  return rows.find((r) => r.acc.variant === baseline && r.acc.scenario === row.acc.scenario);
}

/** Per round, this row's req/s over the baseline's in the same round. */
function roundRatios(row: ScaleRow, base: ScaleRow): string {
  const ratios = row.acc.roundRps.flatMap((rps, i) => {
    const b = base.acc.roundRps[i];
    return rps !== undefined && b !== undefined && b > 0 ? [fixed(rps / b, 2)] : [];
  });
  return ratios.join(', ');
}

/** The figures: one row per variant and scenario, ratios to the baseline's same scenario. */
export function scaleTable(rows: ScaleRow[], baseline: string): string {
  const lines = [
    '| variant | scenario | req/s | p50 ms | p99 ms | non-2xx | server CPU µs/req | Redis CPU µs/req | PostgreSQL CPU µs/req | × A req/s | × A per round | × session req/s |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const r of rows) {
    const base = baselineOf(rows, r, baseline);
    const session = rows.find((s) => s.acc.variant === r.acc.variant && s.acc.scenario === 'session');
    const s = r.summary;
    lines.push(
      `| ${r.acc.variant} | ${r.acc.scenario} | ${Math.round(s.rps)} | ${fixed(s.p50Ms, 2)} | ${fixed(s.p99Ms, 2)} | ${s.non2xx + s.errors} | ${fixed(perRequest(s.serverCpuMicros, r), 0)} | ${fixed(perRequest(r.acc.cpu.redis, r), 0)} | ${r.acc.cpu.postgres > 0 ? fixed(perRequest(r.acc.cpu.postgres, r), 0) : '-'} | ${base ? fixed(s.rps / base.summary.rps, 2) : 'n/a'} | ${base ? roundRatios(r, base) : ''} | ${session ? fixed(s.rps / session.summary.rps, 2) : 'n/a'} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Where the machine's cores went while each variant was loaded: CPU seconds per second of load
 * (1.00 = one core busy throughout), per process group; "other" is the machine's busy time that
 * none of them used (other programs on a shared machine).
 */
export function utilisationTable(rows: ScaleRow[], cpuCount: number): string {
  const lines = [
    `| variant | scenario | app (cores) | requests per worker | Redis | PostgreSQL | load generator | machine busy (of ${cpuCount}) | other |`,
    '|---|---|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const { cpu, variant, scenario } = r.acc;
    const perProcess = [...cpu.app.values()];
    const app = perProcess.reduce((sum, micros) => sum + micros, 0);
    // Several processes: the workers, then the primary (listed first in the readings).
    const appCell =
      perProcess.length > 1
        ? `${fixed(cores(app, r), 2)} = ${perProcess
            .slice(1)
            .map((micros) => fixed(cores(micros, r), 2))
            .join(' + ')} + ${fixed(cores(perProcess[0]!, r), 2)} primary`
        : fixed(cores(app, r), 2);
    const requests = [...r.acc.workerRequests.values()];
    const answered = requests.reduce((sum, n) => sum + n, 0);
    const split =
      requests.length > 0 ? requests.map((n) => `${fixed((100 * n) / answered, 0)}%`).join(' / ') : '-';
    const known = app + cpu.redis + cpu.postgres + cpu.load;
    lines.push(
      `| ${variant} | ${scenario} | ${appCell} | ${split} | ${fixed(cores(cpu.redis, r), 2)} | ${cpu.postgres > 0 ? fixed(cores(cpu.postgres, r), 2) : '-'} | ${fixed(cores(cpu.load, r), 2)} | ${fixed(cores(cpu.machine, r), 2)} | ${fixed(cores(Math.max(0, cpu.machine - known), r), 2)} |`,
    );
  }
  return lines.join('\n');
}

export function checksTable(checks: CheckResult[]): string {
  const lines = ['| check | variant | sent → answers | answered by | result |', '|---|---|---|---|---|'];
  for (const c of checks) {
    lines.push(
      `| ${c.check} | ${c.variant} | ${c.detail} | ${c.reached} | ${c.passed ? 'pass' : '**FAIL**'} |`,
    );
  }
  return lines.join('\n');
}
