import type { MemorySample, SoakWindow } from './soak-windows.js';

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;

/** The hold, one row per window. */
export function windowsTable(windows: SoakWindow[]): string {
  const lines = [
    '| window | req/s | guard · right · wrong | p50 ms | p99 ms | errors | server RSS MB | heap MB | Redis MB | keys |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const w of windows) {
    const s = w.sample;
    const seconds = w.toS - w.fromS;
    lines.push(
      `| ${clock(w.fromS)}–${clock(w.toS)} | ${Math.round(w.answers / seconds)} | ${w.byKind.guard} · ${w.byKind.right} · ${w.byKind.wrong} | ${fixed(w.p50Ms, 2)} | ${fixed(w.p99Ms, 2)} | ${w.errors} | ${s ? mb(s.rss) : '-'} | ${s ? mb(s.heapUsed) : '-'} | ${s ? mb(s.redisUsed) : '-'} | ${s ? s.keys : '-'} |`,
    );
  }
  return lines.join('\n');
}

/** Start, baseline and end of the hold side by side (each after a full GC in the server). */
export function memoryTable(rows: [string, MemorySample][]): string {
  const lines = [
    '| moment | server RSS MB | server heap MB | server external MB | Redis used_memory MB | Redis keys |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const [name, s] of rows) {
    lines.push(
      `| ${name} | ${mb(s.rss)} | ${mb(s.heapUsed)} | ${mb(s.external)} | ${mb(s.redisUsed)} | ${s.keys} |`,
    );
  }
  return lines.join('\n');
}

/** Keys by kind at the start and the end, idle both times. */
export function keysTable(start: Record<string, number>, end: Record<string, number>): string {
  const lines = ['| key | start | end |', '|---|---:|---:|'];
  for (const kind of [...new Set([...Object.keys(start), ...Object.keys(end)])].sort()) {
    lines.push(`| \`${kind}\` | ${start[kind] ?? 0} | ${end[kind] ?? 0} |`);
  }
  return lines.join('\n');
}

/**
 * "Flat": the end of the hold within `share` of the baseline (the state after the first minute, when
 * heaps, JIT code, socket buffers and the live sessions have reached their working size), or
 * within `floor` of it for figures so small that a share of them is below their normal jitter.
 * Each side is the lowest of `FLAT_SAMPLES` samples (the baseline's window and the next ones, the
 * last windows): RSS after a full GC still swings by ±10 MB from one window to the next with what is
 * in flight, and what is in flight only ever adds, while a leak raises the lowest sample too.
 */
export const FLAT_SAMPLES = 3;
export const FLAT = {
  rss: { share: 0.1, floor: 16 * MB },
  heapUsed: { share: 0.1, floor: 4 * MB },
  redisUsed: { share: 0.05, floor: 2 * MB },
  keys: { share: 0.02, floor: 100 },
} as const;

/** The last window's p99 may be this many times the first's (plus `P99_SLACK_MS`) before it counts as degraded. */
export const P99_FACTOR = 1.5;
export const P99_SLACK_MS = 2;
/** The hold must deliver at least this share of its target rate. */
export const RATE_HELD = 0.9;

export interface VerdictInput {
  smoke: boolean;
  windows: SoakWindow[];
  targetRate: number;
  achievedRate: number;
  errors: number;
  unanswered: number;
  connections: number;
  starved: number;
  wrongSent: number;
  wrongRefused: number;
  /** The window whose end is the baseline (the end of the first minute). */
  baselineWindow: number;
}

export interface Verdict {
  lines: string[];
  passed: boolean;
}

export function verdict(v: VerdictInput): Verdict {
  const lines: string[] = [];
  let passed = true;
  // --smoke runs for seconds: latency and memory trends are reported there, not judged.
  const judge = (ok: boolean, text: string, always = false) => {
    const judged = always || !v.smoke;
    if (judged) passed &&= ok;
    lines.push(`- ${judged ? (ok ? 'pass' : 'FAIL') : 'not judged in --smoke'}: ${text}`);
  };
  judge(
    v.errors === 0,
    `errors ${v.errors} (unexpected answers, connection errors and timeouts; must be 0)`,
    true,
  );
  judge(
    v.unanswered <= v.connections,
    `${v.unanswered} requests without an answer at the end (at most the ${v.connections} in flight when the load stopped)`,
    true,
  );
  // (Every answered wrong code must be refused: any other answer is an error above.)
  judge(
    v.starved === 0 && v.wrongRefused > 0,
    `mix held: ${v.starved} verifications found no user with a fresh code; ${v.wrongRefused} wrong codes refused with 401 invalid_code (${v.wrongSent} sent, the rest cut off at the end)`,
    true,
  );
  judge(
    v.achievedRate >= RATE_HELD * v.targetRate,
    `rate held: ${Math.round(v.achievedRate)} req/s over the hold for a target of ${Math.round(v.targetRate)} (at least ${RATE_HELD * 100}%)`,
  );
  const first = v.windows[0];
  const last = v.windows[v.windows.length - 1];
  if (first && last) {
    const limit = first.p99Ms * P99_FACTOR + P99_SLACK_MS;
    judge(
      last.p99Ms <= limit,
      `p99 steady: last window ${fixed(last.p99Ms, 2)} ms vs first ${fixed(first.p99Ms, 2)} ms (at most ${P99_FACTOR} × first + ${P99_SLACK_MS} ms = ${fixed(limit, 2)} ms)`,
    );
  }
  const sampled = (ws: SoakWindow[]) => ws.filter((w) => w.sample !== undefined);
  const start = sampled(v.windows.slice(v.baselineWindow, v.baselineWindow + FLAT_SAMPLES));
  const end = sampled(v.windows.slice(-FLAT_SAMPLES));
  if (start.length === 0 || end.length === 0) {
    judge(false, 'memory flat: no samples');
    return { lines, passed };
  }
  const answersSince = v.windows.slice(v.baselineWindow + 1).reduce((n, w) => n + w.answers, 0);
  const per = (bytes: number) =>
    answersSince > 0 ? `, ${fixed(bytes / answersSince, 1)} B per request since` : '';
  const at = (ws: SoakWindow[]) => ws.map((w) => clock(w.toS)).join(', ');
  for (const [key, name] of [
    ['rss', 'server RSS'],
    ['heapUsed', 'server heap'],
    ['redisUsed', 'Redis used_memory'],
    ['keys', 'Redis keys'],
  ] as const) {
    const { share, floor } = FLAT[key];
    const lowest = (ws: SoakWindow[]) => Math.min(...ws.map((w) => w.sample![key]));
    const [from, to] = [lowest(start), lowest(end)];
    const allowed = Math.max(from * share, floor);
    const growth = to - from;
    const sign = growth >= 0 ? '+' : '';
    const shown =
      key === 'keys'
        ? `${from} → ${to} (${sign}${growth}; allowed +${Math.round(allowed)})`
        : `${mb(from)} → ${mb(to)} MB (${sign}${mb(growth)}${per(growth)}; allowed +${mb(allowed)})`;
    judge(growth <= allowed, `${name} flat, lowest sample at ${at(start)} → lowest at ${at(end)}: ${shown}`);
  }
  return { lines, passed };
}
