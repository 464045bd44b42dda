import type { Redis } from 'ioredis';

/** Calls per command from `INFO commandstats` (Redis counts what Lua scripts run inside, too). */
export type CommandCounts = Record<string, number>;

export function parseCommandStats(info: string): CommandCounts {
  const counts: CommandCounts = {};
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) counts[match[1]!] = Number(match[2]);
  }
  return counts;
}

/** The server's command counts, less the INFO calls the benchmark itself makes. */
export async function commandStats(redis: Redis): Promise<CommandCounts> {
  const counts = parseCommandStats(await redis.info('commandstats'));
  delete counts.info;
  return counts;
}

/** `after - before` per command, without zero entries. */
export function diffCounts(before: CommandCounts, after: CommandCounts): CommandCounts {
  const delta: CommandCounts = {};
  for (const [name, calls] of Object.entries(after)) {
    const d = calls - (before[name] ?? 0);
    if (d !== 0) delta[name] = d;
  }
  return delta;
}

export function addCounts(into: CommandCounts, more: CommandCounts): void {
  for (const [name, calls] of Object.entries(more)) into[name] = (into[name] ?? 0) + calls;
}

export const total = (counts: CommandCounts) => Object.values(counts).reduce((a, b) => a + b, 0);

/** CPU time redis-server has used (user + system, main thread and children), microseconds. */
export async function redisCpuMicros(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  let seconds = 0;
  for (const name of ['used_cpu_user', 'used_cpu_sys']) {
    const match = new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info);
    if (match) seconds += Number(match[1]);
  }
  return Math.round(seconds * 1e6);
}
