import { PerformanceObserver } from 'node:perf_hooks';

/**
 * Time the main thread of this process has spent paused for the garbage collector since the first
 * call, µs, from the 'gc' performance entries. A lower bound of the collector's CPU: V8's concurrent
 * and parallel helper threads count in process.cpuUsage() but not here. Entries reach JavaScript
 * an event-loop turn after their collection; `takeRecords()` takes those already queued, and callers
 * read after the server has gone quiet (measure.ts's quiesce), so a reading misses at most the last
 * turn's.
 */
export function gcClock(): () => number {
  let micros = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) micros += entry.duration * 1000;
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    for (const entry of observer.takeRecords()) micros += entry.duration * 1000;
    return micros;
  };
}
