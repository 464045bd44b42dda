import { type ColdImport, coldImportRatio } from './cold-import.js';
import type { MemoryResult } from './memory.js';
import { type CommandCounts, total } from './redis-stats.js';

/** One HTTP scenario's measured runs, added up over its rounds. */
export interface ScenarioResult {
  name: string;
  /** Answers received in the measured runs. */
  responses: number;
  /** Answers by HTTP status. */
  statuses: Record<number, number>;
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  durationS: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Requests the server received in the measured runs (the denominator for commands per request). */
  serverRequests: number;
  /** INFO commandstats delta: what Redis executed, commands inside Lua scripts included. */
  redisCommands: CommandCounts;
  /** Commands the server's ioredis client sent (round trips; a script call counts once). */
  sentCommands: CommandCounts;
  /** Round trips the server waited for per request (commands issued together count once), from a serial probe. */
  roundTrips: number;
  /** CPU the server process used in the measured runs, µs. */
  serverCpuMicros: number;
  /** The server's main-thread pauses for its garbage collector (a lower bound of the collector's CPU), µs. */
  serverGcMicros: number;
  /** CPU redis-server used in the measured runs, µs. */
  redisCpuMicros: number;
  notes: string[];
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  node: string;
  redis: string;
}

export interface Targets {
  lines: string[];
  met: boolean;
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
export const perRequest = (counts: CommandCounts, requests: number) =>
  requests > 0 ? total(counts) / requests : Number.NaN;

function byCommand(counts: CommandCounts, requests: number): string {
  const entries = Object.entries(counts)
    .map(([name, calls]) => [name, calls / requests] as const)
    .filter(([, n]) => n >= 0.005)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return entries.length === 0 ? '-' : entries.map(([name, n]) => `${name} ${fixed(n, 2)}`).join(', ');
}

const variantOf = (name: string) => (name.endsWith(' (B)') ? ' (B)' : '');
const baseName = (name: string) => name.replace(/ \(B\)$/, '');

/** The markdown table: one row per scenario, in the order run (B rows are compared with B's session). */
export function table(results: ScenarioResult[], memory: MemoryResult | undefined): string {
  const lines = [
    '| scenario | req/s | p50 ms | p99 ms | 2xx | non-2xx | Redis cmds/req beyond session | x session req/s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const session = results.find((s) => s.name === `session${variantOf(r.name)}`);
    const sessionCmds = session ? perRequest(session.redisCommands, session.serverRequests) : Number.NaN;
    const cmds = perRequest(r.redisCommands, r.serverRequests);
    const base = baseName(r.name);
    const shown =
      base === 'hello'
        ? `${fixed(cmds, 2)} (raw)`
        : base === 'session'
          ? `0 (${fixed(cmds, 2)} raw)`
          : fixed(cmds - sessionCmds, 2);
    const ratio = session && session.rps > 0 ? fixed(r.rps / session.rps, 2) : 'n/a';
    const non2xx = r.non2xx + r.errors;
    lines.push(
      `| ${r.name} | ${Math.round(r.rps)} | ${fixed(r.p50Ms, 2)} | ${fixed(r.p99Ms, 2)} | ${r.ok} | ${non2xx} | ${shown} | ${ratio} |`,
    );
  }
  if (memory) {
    lines.push(
      `| memory | ${memory.attempts.toLocaleString('en-US')} attempts in ${memory.seconds} s | RSS ${memory.rssBeforeMb} → ${memory.rssAfterMb} MB | heap peak ${memory.heapPeakMb} MB | ${memory.storeKeys} keys | ${memory.liveKeys} live | ${memory.bounded ? 'bounded' : '**NOT bounded**'} | |`,
    );
  }
  return lines.join('\n');
}

/** A/B: each scenario of B against the same scenario of A, measured interleaved in the same run. */
export function comparison(results: ScenarioResult[]): string {
  const lines = [
    'A/B (B = --compare), interleaved in this run:',
    '',
    '| scenario | req/s B/A | server CPU/req B/A | GC pauses/req B/A | redis CPU/req B/A | Redis executed/req A → B | sent/req A → B |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const b of results.filter((r) => variantOf(r.name))) {
    const a = results.find((r) => r.name === baseName(b.name));
    if (!a) continue;
    const per = (r: ScenarioResult, micros: number) => micros / r.serverRequests;
    lines.push(
      `| ${a.name} | ${fixed(b.rps / a.rps, 3)} | ${fixed(per(b, b.serverCpuMicros) / per(a, a.serverCpuMicros), 3)} | ${fixed(per(b, b.serverGcMicros) / per(a, a.serverGcMicros), 3)} | ${fixed(per(b, b.redisCpuMicros) / per(a, a.redisCpuMicros), 3)} | ${fixed(perRequest(a.redisCommands, a.serverRequests), 2)} → ${fixed(perRequest(b.redisCommands, b.serverRequests), 2)} | ${fixed(perRequest(a.sentCommands, a.serverRequests), 2)} → ${fixed(perRequest(b.sentCommands, b.serverRequests), 2)} |`,
    );
  }
  return lines.join('\n');
}

/** Per-command detail: what Redis executed and what the server sent, per request. */
export function commandDetail(results: ScenarioResult[]): string {
  const lines = [
    '| scenario | server CPU µs/req | GC pauses µs/req | redis CPU µs/req | Redis executed /req (INFO commandstats, incl. inside scripts) | sent by the server /req (a script call counts once) | round trips /req (serial probe) |',
    '|---|---:|---:|---:|---|---|---:|',
  ];
  for (const r of results) {
    const n = r.serverRequests;
    lines.push(
      `| ${r.name} | ${fixed(r.serverCpuMicros / n, 0)} | ${fixed(r.serverGcMicros / n, 0)} | ${fixed(r.redisCpuMicros / n, 0)} | ${fixed(perRequest(r.redisCommands, n), 2)}: ${byCommand(r.redisCommands, n)} | ${fixed(perRequest(r.sentCommands, n), 2)}: ${byCommand(r.sentCommands, n)} | ${fixed(r.roundTrips, 2)} |`,
    );
  }
  return lines.join('\n');
}

export function memoryDetail(m: MemoryResult): string {
  return [
    `memory: ${m.attempts.toLocaleString('en-US')} attempts (a new user each, ~${m.simulatedHours} h of injected clock) in ${m.seconds} s;`,
    `store.size() ${m.storeKeys} vs ${m.liveKeys} live keys (TTL not yet run out);`,
    `heap after GC ${m.heapBeforeMb} MB before, ${m.heapPeakMb} MB peak while running, ${m.heapAfterMb} MB after`,
    `(peak ≈ ${m.peakKeysEquivalent} keys at ~${m.bytesPerKey} B each; the store sweeps at ~2x live + 1024);`,
    `RSS ${m.rssBeforeMb} → ${m.rssAfterMb} MB. ${m.bounded ? 'Bounded.' : 'NOT bounded.'}`,
  ].join(' ');
}

/** The targets, judged from one run. */
export function targets(
  results: ScenarioResult[],
  memory: MemoryResult | undefined,
  cold?: ColdImport,
): Targets {
  const get = (name: string) => results.find((r) => r.name === name);
  const session = get('session');
  const lines: string[] = [];
  let met = true;
  const judge = (ok: boolean, text: string) => {
    met &&= ok;
    lines.push(`- ${ok ? 'met' : 'MISSED'}: ${text}`);
  };
  const guard = get('guard');
  if (session && guard) {
    const ratio = guard.rps / session.rps;
    // Server CPU per request is the steadier measure on a shared machine: shown beside the verdict.
    const cpu =
      session.serverCpuMicros / session.serverRequests / (guard.serverCpuMicros / guard.serverRequests);
    judge(
      ratio >= 0.97,
      `guard ${fixed(ratio, 3)} x session req/s (target >= 0.97); by server CPU per request ${fixed(cpu, 3)} x session`,
    );
    const extra =
      perRequest(guard.redisCommands, guard.serverRequests) -
      perRequest(session.redisCommands, session.serverRequests);
    const extraSent =
      perRequest(guard.sentCommands, guard.serverRequests) -
      perRequest(session.sentCommands, session.serverRequests);
    judge(
      Math.abs(extra) < 0.005 && Math.abs(extraSent) < 0.005,
      `guard extra Redis commands/req ${fixed(extra, 3)} executed, ${fixed(extraSent, 3)} sent (target 0)`,
    );
  }
  // Server CPU per request, and its ratio to the session route's: the steadier measure, shown beside req/s.
  const cpu = (r: ScenarioResult) => r.serverCpuMicros / r.serverRequests;
  const byCpu = (r: ScenarioResult) =>
    session ? `; by server CPU per request ${fixed(cpu(session) / cpu(r), 3)} x session` : '';
  const totp = get('totp-verify');
  if (session && totp) {
    const ratio = totp.rps / session.rps;
    judge(ratio >= 0.65, `totp-verify ${fixed(ratio, 3)} x session req/s (target >= 0.65)${byCpu(totp)}`);
    const trips = totp.roundTrips;
    judge(
      trips <= 4.005,
      `totp-verify waits for ${fixed(trips, 2)} Redis round trips, the session's own included (target <= 4)`,
    );
    // "Beyond loading the session": everything but the one GET express-session loads it with.
    const sent = perRequest(totp.sentCommands, totp.serverRequests) - 1;
    const executed = perRequest(totp.redisCommands, totp.serverRequests) - 1;
    judge(
      sent <= 4.005,
      `totp-verify sends ${fixed(sent, 2)} Redis commands beyond the session load (target <= 4); Redis executes ${fixed(executed, 2)} counting the commands inside the attempt script`,
    );
  }
  // Not targets: how much of the distance to the session route the stack itself accounts for.
  const floors = [
    ['floor-verify', 'totp-verify', 'the same round trips and session replacement without express-mfa'],
    [
      'floor-totp-verify',
      'totp-verify',
      'floor-verify plus the cryptography and session state no TOTP check can skip',
    ],
    [
      'floor-passkey-verify',
      'passkey-verify',
      "floor-verify plus SimpleWebAuthn's check of the assertion and the session state",
    ],
  ] as const;
  for (const [name, route, what] of floors) {
    const floor = get(name);
    const measured = get(route);
    if (!session || !floor) continue;
    const against = measured
      ? `; ${route} ${fixed(measured.rps / floor.rps, 3)} x ${name} req/s, ${Math.round(cpu(measured) - cpu(floor))} µs more server CPU per request`
      : '';
    lines.push(
      `- (floor) ${name}, ${what}, ${fixed(floor.rps / session.rps, 3)} x session req/s${byCpu(floor)}${against}`,
    );
  }
  const passkey = get('passkey-verify');
  if (session && passkey) {
    const ratio = passkey.rps / session.rps;
    judge(ratio >= 0.4, `passkey-verify ${fixed(ratio, 3)} x session req/s (target >= 0.4)${byCpu(passkey)}`);
  }
  for (const r of results) {
    if (r.non2xx + r.errors > 0 || r.responses === 0)
      judge(false, `${r.name}: every answer 2xx (${r.ok} of ${r.responses}, ${r.errors} errors)`);
  }
  if (cold) {
    judge(
      coldImportRatio(cold) <= 2.5,
      `cold import('express-mfa') ${fixed(coldImportRatio(cold), 2)} x import('express') (target <= 2.5; medians ${fixed(cold.medians['express-mfa'], 0)} and ${fixed(cold.medians.express, 0)} ms)`,
    );
  }
  if (memory)
    judge(
      memory.bounded,
      `memory bounded (${memory.storeKeys} keys vs ${memory.liveKeys} live after ${memory.attempts} attempts)`,
    );
  return { lines, met };
}
