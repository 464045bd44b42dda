import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type pg from 'pg';

/**
 * Where the cores go while a run loads a server: CPU counters of the processes sharing this
 * machine (the app's, redis-server's, PostgreSQL's, the load generator's: this process) and of the
 * machine as a whole (/proc/stat, every process on it), read synchronously right before and right
 * after the load. Linux only.
 */

/** Clock ticks per second of /proc's counters. */
const HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of `pid` in µs, and its parent's pid; undefined once it has exited. */
function procStat(pid: number): { ppid: number; cpuMicros: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), cpuMicros: ((Number(fields[11]) + Number(fields[12])) * 1e6) / HZ };
}

export const processCpuMicros = (pid: number) => procStat(pid)?.cpuMicros ?? 0;

/** Busy CPU time of the whole machine (every core, every process), µs. */
function machineBusyMicros(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1e6) / HZ;
}

/** The pid of the redis-server behind `client`. */
export async function redisPid(client: Redis): Promise<number> {
  const pid = Number(/^process_id:(\d+)/m.exec(await client.info('server'))?.[1]);
  if (!pid || !procStat(pid)) throw new Error('redis-server is not a process of this machine');
  return pid;
}

/**
 * A PostgreSQL server on this machine: a function listing its postmaster and the postmaster's
 * children (backends, writer, WAL writer, ...).
 */
export async function postgresPids(pool: pg.Pool): Promise<() => number[]> {
  const backend = Number((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  const postmaster = procStat(backend)?.ppid;
  if (!postmaster) throw new Error('PostgreSQL is not a process of this machine');
  return () => [
    postmaster,
    ...readdirSync('/proc')
      .map(Number)
      .filter((pid) => Number.isInteger(pid) && procStat(pid)?.ppid === postmaster),
  ];
}

/** The processes one reading covers, by role. */
export interface Watched {
  /** The app: one process, or the primary first and then each worker. */
  app: number[];
  redis: number[];
  /** Listed at each reading (PostgreSQL starts backends as connections open). */
  postgres?: () => number[];
}

export interface CpuReading {
  machine: number;
  load: number;
  app: Map<number, number>;
  redis: number;
  postgres: Map<number, number>;
}

export function readCpu(watched: Watched): CpuReading {
  const sum = (pids: number[]) => pids.reduce((total, pid) => total + processCpuMicros(pid), 0);
  const { user, system } = process.cpuUsage();
  return {
    machine: machineBusyMicros(),
    load: user + system,
    app: new Map(watched.app.map((pid) => [pid, processCpuMicros(pid)])),
    redis: sum(watched.redis),
    postgres: new Map((watched.postgres?.() ?? []).map((pid) => [pid, processCpuMicros(pid)])),
  };
}

/** CPU used between two readings, µs, by role (a process that started in between counts from 0). */
export function cpuBetween(before: CpuReading, after: CpuReading) {
  const delta = (a: Map<number, number>, b: Map<number, number>) =>
    new Map([...b].map(([pid, micros]) => [pid, micros - (a.get(pid) ?? 0)]));
  const total = (m: Map<number, number>) => [...m.values()].reduce((x, y) => x + y, 0);
  return {
    machine: after.machine - before.machine,
    load: after.load - before.load,
    app: delta(before.app, after.app),
    redis: after.redis - before.redis,
    postgres: total(delta(before.postgres, after.postgres)),
  };
}
export type CpuUse = ReturnType<typeof cpuBetween>;
