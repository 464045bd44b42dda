import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, type ClusterOptions, Redis } from 'ioredis';

/**
 * A throwaway one-node Redis Cluster: a redis-server in cluster mode on a free port that owns all
 * 16384 slots. One node is enough to prove hash tags: the server still refuses (CROSSSLOT) any
 * multi-key command or script whose keys hash to different slots.
 */
export interface TestRedisCluster {
  port: number;
  /** A new ioredis Cluster client for this node (closed by `close()`); wait for its 'ready' before use. */
  cluster(options?: ClusterOptions): Cluster;
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

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A plain (non-cluster) connection to the node, for setup; refused while the server starts. */
async function connectProbe(port: number, proc: ChildProcess, log: () => string): Promise<Redis> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`redis-server (cluster) on port ${port} exited while starting:\n${log()}`);
    }
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {}); // refused while the server starts: expected, retried below
    try {
      await probe.connect();
      await probe.ping();
      return probe;
    } catch {
      probe.disconnect();
      await pause(25);
    }
  }
  throw new Error(`redis-server (cluster) on port ${port} did not start:\n${log()}`);
}

/**
 * Polls CLUSTER INFO until the node reports the cluster healthy. Bounded by time rather than tries:
 * a master that just started holds back cluster_state:ok for about 2 s (Redis's rejoin delay).
 */
async function waitForClusterOk(probe: Redis, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let info = '';
  while (Date.now() < deadline) {
    info = String(await probe.call('CLUSTER', 'INFO'));
    if (/^cluster_state:ok\r?$/m.test(info)) return;
    await pause(25);
  }
  throw new Error(`cluster on port ${port} did not reach cluster_state:ok within ${timeoutMs} ms:\n${info}`);
}

/**
 * Resolves once `client` is ready; rejects if it ends first or is not ready within `timeoutMs`
 * (a Cluster client that cannot reach the nodes it was told about retries forever otherwise).
 */
export function clusterReady(client: Cluster, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => done();
    const onEnd = () => done(new Error('Cluster client ended before it was ready'));
    const timer = setTimeout(
      () => done(new Error(`Cluster client not ready within ${timeoutMs} ms (status "${client.status}")`)),
      timeoutMs,
    );
    client.once('ready', onReady);
    client.once('end', onEnd);
  });
}

export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'express-mfa-cluster-'));
  const port = await freePort();
  // The cluster bus defaults to port + 10000, which may be taken or above 65535: pick a free one too.
  let busPort = await freePort();
  while (busPort === port) busPort = await freePort();
  const clients: Cluster[] = [];
  let output = '';

  const proc = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--cluster-port',
      String(busPort),
      '--bind',
      '127.0.0.1',
      // Without it a node that never met another reports its address as "" in CLUSTER SLOTS, and
      // the ioredis Cluster client (which connects to the addresses listed there) never gets ready.
      '--cluster-announce-ip',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Kept (bounded) only to explain a failed start.
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);

  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
  };
  const close = async () => {
    for (const c of clients) c.disconnect();
    await stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const probe = await connectProbe(port, proc, () => output);
    try {
      await probe.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      await waitForClusterOk(probe, port);
    } finally {
      probe.disconnect();
    }
  } catch (error) {
    await close();
    throw error;
  }

  return {
    port,
    cluster(options = {}) {
      const c = new Cluster([{ host: '127.0.0.1', port }], options);
      clients.push(c);
      return c;
    },
    close,
  };
}
