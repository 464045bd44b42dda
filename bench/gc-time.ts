import { PerformanceObserver } from 'node:perf_hooks';

/**
 * Time this process has spent in the garbage collector since the first call, µs, from the 'gc'
 * performance entries. Entries are delivered after the collection; `takeRecords()` collects the
 * pending ones, so a reading includes every collection finished before it.
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
