import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, type ClusterOptions, Redis } from 'ioredis';

/**
 * A throwaway Redis Cluster of redis-servers on free ports. With one master (the default) the node
 * owns all 16384 slots, which is enough to prove hash tags: the server still refuses (CROSSSLOT)
 * any multi-key command or script whose keys hash to different slots. With 3 or more masters
 * (and optionally replicas) it is built by `redis-cli --cluster create`, as in production.
 */
export interface TestRedisCluster {
  /** The first node's port (a seed for clients). */
  port: number;
  /** Every node's port, masters first as created. */
  ports: number[];
  /** A new ioredis Cluster client (closed by `close()`); wait for its 'ready' before use. */
  cluster(options?: ClusterOptions): Cluster;
  /** The current masters (port and the slot ranges they serve), from CLUSTER SHARDS via a live node. */
  masters(): Promise<{ port: number; slots: [number, number][] }[]>;
  /** SIGKILLs the node on `port`, as a crash would. */
  kill(port: number): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterShape {
  /** Masters (default 1; otherwise at least 3, as redis-cli requires). */
  masters?: number;
  /** Replicas per master (default 0). */
  replicas?: number;
  /** cluster-node-timeout in ms (default 1000): how soon a dead master is failed over. */
  nodeTimeoutMs?: number;
  /**
   * cluster-require-full-coverage (default true, Redis's default): when true, every node refuses
   * every key (CLUSTERDOWN) while any slot has no master; false keeps the other slots served.
   */
  requireFullCoverage?: boolean;
}

const run = promisify(execFile);

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

interface ClusterNode {
  port: number;
  proc: ChildProcess;
  output: () => string;
}

function startNode(
  dir: string,
  port: number,
  busPort: number,
  { nodeTimeoutMs, requireFullCoverage }: { nodeTimeoutMs: number; requireFullCoverage: boolean },
): ClusterNode {
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
      '--cluster-node-timeout',
      String(nodeTimeoutMs),
      '--cluster-require-full-coverage',
      requireFullCoverage ? 'yes' : 'no',
      // Replicas sync at once (the default waits 5 s for more replicas before a diskless sync).
      '--repl-diskless-sync-delay',
      '0',
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
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
  return { port, proc, output: () => output };
}

async function killNode(node: ClusterNode): Promise<void> {
  if (node.proc.exitCode !== null || node.proc.signalCode !== null) return;
  const exited = once(node.proc, 'exit');
  node.proc.kill('SIGKILL');
  await exited;
}

/** Free ports for `count` nodes and their cluster buses, all distinct. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export async function startRedisCluster({
  masters = 1,
  replicas = 0,
  nodeTimeoutMs = 1000,
  requireFullCoverage = true,
}: ClusterShape = {}): Promise<TestRedisCluster> {
  if (masters !== 1 && masters < 3) throw new Error('a cluster has 1 master, or at least 3');
  if (masters === 1 && replicas > 0) throw new Error('replicas need at least 3 masters here');
  const dir = await mkdtemp(join(tmpdir(), 'express-mfa-cluster-'));
  const count = masters * (1 + replicas);
  // The cluster bus defaults to port + 10000, which may be taken or above 65535: pick free ones too.
  const all = await freePorts(count * 2);
  const ports = all.slice(0, count);
  const nodes = ports.map((port, i) =>
    startNode(dir, port, all[count + i]!, { nodeTimeoutMs, requireFullCoverage }),
  );
  const clients: Cluster[] = [];

  const close = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(nodes.map(killNode));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const probes = await Promise.all(nodes.map((n) => connectProbe(n.port, n.proc, n.output)));
    try {
      if (masters === 1) {
        await probes[0]!.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      } else {
        // redis-cli makes the first `masters` nodes masters and assigns the rest as their replicas.
        await run('redis-cli', [
          '--cluster',
          'create',
          ...ports.map((p) => `127.0.0.1:${p}`),
          '--cluster-replicas',
          String(replicas),
          '--cluster-yes',
        ]);
      }
      await Promise.all(probes.map((probe, i) => waitForClusterOk(probe, ports[i]!)));
      if (replicas > 0) await waitForReplicas(probes, masters * replicas);
    } finally {
      for (const probe of probes) probe.disconnect();
    }
  } catch (error) {
    await close();
    throw error;
  }

  const live = () => nodes.find((n) => n.proc.exitCode === null && n.proc.signalCode === null);
  return {
    port: ports[0]!,
    ports,
    cluster(options = {}) {
      const c = new Cluster(
        ports.map((port) => ({ host: '127.0.0.1', port })),
        options,
      );
      clients.push(c);
      return c;
    },
    async masters() {
      const node = live();
      if (!node) throw new Error('no live node');
      const probe = new Redis({
        port: node.port,
        host: '127.0.0.1',
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => {});
      try {
        const slots = (await probe.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
        const byPort = new Map<number, [number, number][]>();
        for (const [from, to, [, port]] of slots) byPort.set(port, [...(byPort.get(port) ?? []), [from, to]]);
        return [...byPort].map(([port, ranges]) => ({ port, slots: ranges }));
      } finally {
        probe.disconnect();
      }
    },
    async kill(port) {
      const node = nodes.find((n) => n.port === port);
      if (!node) throw new Error(`no node on port ${port}`);
      await killNode(node);
    },
    close,
  };
}

/**
 * Waits until `count` nodes are replicas whose link to their master is up (synced): before that a
 * killed master has no replica able to take over.
 */
async function waitForReplicas(probes: Redis[], count: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let states: string[] = [];
  while (Date.now() < deadline) {
    states = await Promise.all(probes.map(async (probe) => String(await probe.info('replication'))));
    const synced = states.filter(
      (info) => /^role:slave\r?$/m.test(info) && /^master_link_status:up\r?$/m.test(info),
    );
    if (synced.length >= count) return;
    await pause(50);
  }
  throw new Error(`cluster replicas not all synced within ${timeoutMs} ms:\n${states.join('\n')}`);
}
