import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerMemory, ServerMessage, ServerStats } from './protocol.js';

export interface ServerProcess {
  url: string;
  pid: number;
  /** Requests seen and Redis commands sent by the server, so far. */
  stats(): Promise<ServerStats>;
  /** A full garbage collection in the server (between runs). */
  collectGarbage(): Promise<void>;
  /** The server process's RSS and heap, bytes. */
  memory(): Promise<ServerMemory>;
  /** SIGKILL, for emergencies (no profile is written). */
  kill(): void;
  /** Asks the server to exit (which writes its CPU profile, if any) and waits; kills it if it hangs. */
  close(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));
const WORKERS = fileURLToPath(new URL('./server-workers.ts', import.meta.url));

/** How the server runs: what users run (built dist/, compiled server, NODE_ENV=production) or the TypeScript source. */
export type ServerMode = { kind: 'production'; server: string; lib: string } | { kind: 'dev' };

/**
 * Forks the bench server in its own process so the load generator does not share its event loop: in
 * production mode the compiled bench/.build/server.js on dist/ under plain node with
 * NODE_ENV=production, in dev mode bench/server.ts on lib/ through tsx. `cpuProfDir` adds
 * `--cpu-prof` (the profile is written when it exits). With `workers` > 1 the forked process is
 * bench/server-workers.ts (compiled alongside in production mode), which runs that many servers
 * behind one port with Node's cluster module and answers for them all.
 */
export async function startServer(options: {
  /** The single Redis; not needed with `redisClusterPorts`. */
  redisPort?: number;
  /** Sessions and MFA records on the Redis Cluster with these node ports (one ioredis Cluster client). */
  redisClusterPorts?: number[] | undefined;
  /** Server processes behind one port (Node's cluster module, round robin); default 1. */
  workers?: number | undefined;
  cpuProfDir?: string | undefined;
  /** File URL of the library's index to use instead of this checkout's (A/B runs). */
  lib?: string | undefined;
  /** Production (the default) or dev; see `ServerMode`. */
  mode?: ServerMode;
  /** ioredis `enableAutoPipelining` on the server's client: on unless false (the README recommends it). */
  autoPipelining?: boolean | undefined;
  /** Mount express-mfa/opentelemetry on a real SDK (the --compare-otel B). */
  otel?: boolean | undefined;
  /** MFA records in a PostgresStore on this database (sessions stay in Redis). */
  databaseUrl?: string | undefined;
}): Promise<ServerProcess> {
  // --expose-gc: run.ts collects garbage between runs, so no scenario pays for the previous one's.
  const mode = options.mode ?? { kind: 'dev' };
  const production = mode.kind === 'production';
  const execArgv = production ? ['--expose-gc'] : ['--import', 'tsx', '--expose-gc'];
  if (options.cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (production) env.NODE_ENV = 'production';
  else delete env.NODE_ENV;
  const server = production ? mode.server : SERVER;
  const workers = options.workers ?? 1;
  const primary = production ? join(dirname(mode.server), 'server-workers.js') : WORKERS;
  const child: ChildProcess = fork(workers > 1 ? primary : server, workers > 1 ? [server] : [], {
    execArgv,
    env: {
      ...env,
      REDIS_PORT: String(options.redisPort ?? ''),
      BENCH_REDIS_CLUSTER: options.redisClusterPorts?.join(',') ?? '',
      BENCH_WORKERS: String(workers),
      BENCH_HOST: '127.0.0.1',
      BENCH_LIB: options.lib ?? (production ? mode.lib : ''),
      BENCH_AUTO_PIPELINING: options.autoPipelining === false ? '0' : '1',
      BENCH_OTEL: options.otel ? '1' : '',
      BENCH_DATABASE_URL: options.databaseUrl ?? '',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');

  const ready = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench server did not start within 30 s')), 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`bench server exited during start (${code ?? signal})`));
    });
    child.on('message', (message: ServerMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.port);
      }
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });

  let nextId = 0;
  /** Sends a request over IPC and resolves with the answer `pick` recognises (same id). */
  function ask<T>(
    type: 'stats' | 'gc' | 'memory',
    pick: (message: ServerMessage) => T | undefined,
  ): Promise<T> {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench server did not answer ${type}`)), 10_000);
      const onMessage = (message: ServerMessage) => {
        if (!('id' in message) || message.id !== id) return;
        const value = pick(message);
        if (value === undefined) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(value);
      };
      child.on('message', onMessage);
      child.send({ type, id });
    });
  }
  return {
    url: `http://127.0.0.1:${ready}`,
    pid: child.pid!,
    stats() {
      return ask<ServerStats>('stats', (m) =>
        m.type === 'stats'
          ? {
              requests: m.requests,
              commands: m.commands,
              roundTrips: m.roundTrips,
              cpuMicros: m.cpuMicros,
              gcMicros: m.gcMicros,
              ...(m.workers ? { workers: m.workers } : {}),
            }
          : undefined,
      );
    },
    async collectGarbage() {
      await ask('gc', (m) => (m.type === 'gc' ? true : undefined));
    },
    memory() {
      return ask<ServerMemory>('memory', (m) =>
        m.type === 'memory'
          ? { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external }
          : undefined,
      );
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'shutdown' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
