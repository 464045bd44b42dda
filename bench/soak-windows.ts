import type { Kind } from './soak-mix.js';

/** Memory of the server process and of Redis at one moment. */
export interface MemorySample {
  /** Server process RSS, bytes. */
  rss: number;
  /** Server V8 heap in use, bytes. */
  heapUsed: number;
  /** Server memory outside the V8 heap held by JavaScript objects (Buffers), bytes. */
  external: number;
  /** Redis INFO memory used_memory, bytes. */
  redisUsed: number;
  /** Redis DBSIZE. */
  keys: number;
}

/** One reporting window of the hold. */
export interface SoakWindow {
  /** Start and end, seconds from the start of the hold. */
  fromS: number;
  toS: number;
  answers: number;
  byKind: Record<Kind, number>;
  /** Unexpected answers, connection errors and timeouts. */
  errors: number;
  p50Ms: number;
  p99Ms: number;
  /** Taken at the window's end, after a full GC in the server (undefined until then). */
  sample?: MemorySample;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** Buckets answers and errors by the window they arrived in, from `start` (performance.now() ms). */
export class WindowRecorder {
  private readonly latencies: number[][] = [];
  private readonly windows: Omit<SoakWindow, 'p50Ms' | 'p99Ms'>[] = [];

  constructor(
    private readonly start: number,
    private readonly windowS: number,
  ) {}

  private at(now: number) {
    const i = Math.max(0, Math.floor((now - this.start) / 1000 / this.windowS));
    while (this.windows.length <= i) {
      const n = this.windows.length;
      this.windows.push({
        fromS: n * this.windowS,
        toS: (n + 1) * this.windowS,
        answers: 0,
        byKind: { guard: 0, right: 0, wrong: 0 },
        errors: 0,
      });
      this.latencies.push([]);
    }
    return i;
  }

  answer(kind: Kind, ms: number, ok: boolean, now = performance.now()): void {
    const i = this.at(now);
    const w = this.windows[i]!;
    w.answers++;
    w.byKind[kind]++;
    if (!ok) w.errors++;
    this.latencies[i]!.push(ms);
  }

  error(now = performance.now()): void {
    this.windows[this.at(now)]!.errors++;
  }

  /** Attaches the sample taken at the end of window `i` (created if no answer arrived in it). */
  sample(i: number, sample: MemorySample): void {
    this.at(this.start + (i + 0.5) * this.windowS * 1000);
    this.windows[i]!.sample = sample;
  }

  /** The windows so far, with their latency percentiles; `until` drops a last, partial one past it (s). */
  result(untilS = Number.POSITIVE_INFINITY): SoakWindow[] {
    return this.windows
      .map((w, i) => ({
        ...w,
        toS: Math.min(w.toS, untilS),
        p50Ms: percentile(this.latencies[i]!, 0.5),
        p99Ms: percentile(this.latencies[i]!, 0.99),
      }))
      .filter((w) => w.fromS < untilS);
  }
}
