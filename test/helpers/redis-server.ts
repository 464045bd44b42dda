import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A throwaway redis-server on a free port, that tests can stop and restart to test failure. */
export interface TestRedis {
  port: number;
  url: string;
  /** A new ioredis client for this server (closed by `close()`). */
  client(options?: import('ioredis').RedisOptions): Redis;
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitForPing(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {}); // refused while the server starts: expected, retried below
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return;
    } catch {
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`redis-server on port ${port} did not start`);
}

/** `args` are extra redis-server arguments, e.g. `['--maxmemory-policy', 'allkeys-lru']`. */
export async function startRedis({ args = [] }: { args?: string[] } = {}): Promise<TestRedis> {
  const clients: Redis[] = [];
  const port = await freePort();
  let proc: ChildProcess | undefined;

  const start = async () => {
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
      {
        stdio: 'ignore',
      },
    );
    await waitForPing(port);
  };
  const stop = async () => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client(options = {}) {
      const c = new Redis({ port, host: '127.0.0.1', ...options });
      clients.push(c);
      return c;
    },
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    close: async () => {
      for (const c of clients) c.disconnect();
      await stop();
    },
  };
}

/**
 * Commands the Redis server has executed so far (INFO commandstats, the INFO calls themselves left
 * out): a difference of two readings is what the code under test sent, scripts' inner calls included.
 */
export async function commandsExecuted(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  let total = 0;
  for (const [, name, calls] of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    if (name !== 'info') total += Number(calls);
  }
  return total;
}
