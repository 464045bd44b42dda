import type { LoadResult } from './load.js';
import { emptyResult, type MeasureRunOptions, measureRun } from './measure.js';
import { type CpuReading, cpuBetween, readCpu } from './scale-cpu.js';
import { addCpu, noCpu, type ScaleAccumulator } from './scale-report.js';
import type { Variant } from './scale-variants.js';

export function scaleAccumulator(variant: string, scenario: string): ScaleAccumulator {
  return {
    ...emptyResult(`${scenario} ${variant}`),
    variant,
    scenario,
    roundRps: [],
    cpu: noCpu(),
    workerRequests: new Map(),
  };
}

/**
 * One measured run of a variant (bench/measure.ts's measureRun), plus what the scale figures need:
 * the CPU of every process involved, read right before and right after the load, and the requests
 * each worker answered.
 */
export async function scaleRun(
  acc: ScaleAccumulator,
  v: Variant,
  run: Omit<MeasureRunOptions, 'server' | 'aroundLoad'> & { round: number },
): Promise<LoadResult> {
  // Request counters move only with the load (measureRun settles the server before and after).
  const workersBefore = (await v.server.stats()).workers ?? [];
  const readings: CpuReading[] = [];
  const load = await measureRun(acc, {
    ...run,
    server: v.server,
    aroundLoad: () => readings.push(readCpu(v.watched)),
  });
  addCpu(acc.cpu, cpuBetween(readings[0]!, readings[1]!));
  for (const w of (await v.server.stats()).workers ?? []) {
    const before = workersBefore.find((b) => b.pid === w.pid)?.requests ?? 0;
    acc.workerRequests.set(w.pid, (acc.workerRequests.get(w.pid) ?? 0) + w.requests - before);
  }
  acc.roundRps[run.round - 1] = load.durationS > 0 ? load.responses / load.durationS : 0;
  return load;
}
