/**
 * Several processes of the bench app behind one port, through Node's cluster module with round-robin
 * scheduling (the primary accepts each connection and hands it to the next worker; a keep-alive
 * connection then stays with its worker). Forked by server-process.ts in place of server.ts when more
 * than one worker is asked for, it speaks the same IPC protocol to its parent: `ready` once every
 * worker listens (on one port), `stats` summed over the workers plus the primary's own CPU (each
 * worker's figures in `workers`; GC pauses likewise), `gc` and `shutdown` handed to every worker.
 * Argument: the worker script (server.ts, or its compiled server.js). Env: BENCH_WORKERS (>= 2) and
 * what server.ts reads, which every worker inherits.
 */
import cluster, { type Worker } from 'node:cluster';
import { gcClock } from './gc-time.js';
import type { ServerMessage, ServerRequest, ServerStats } from './protocol.js';

const count = Number(process.env.BENCH_WORKERS);
const script = process.argv[2];
if (!Number.isInteger(count) || count < 2 || !script) {
  throw new Error('bench/server-workers.ts needs BENCH_WORKERS >= 2 and the worker script as its argument');
}

// Round robin is Node's default except on Windows; set here so every platform measures the same thing.
cluster.schedulingPolicy = cluster.SCHED_RR;
cluster.setupPrimary({ exec: script });

const send = (message: ServerMessage) => process.send?.(message);
const primaryGcMicros = gcClock();
const workers: Worker[] = Array.from({ length: count }, () => cluster.fork());

let closing = false;
for (const worker of workers) {
  worker.on('exit', (code, signal) => {
    // A worker lost under load would skew every figure: end the whole server, loudly.
    if (closing) return;
    process.stderr.write(`bench worker ${worker.process.pid} exited (${code ?? signal})\n`);
    shutdown(1);
  });
}

let nextId = 0;
/** Asks one worker over its IPC channel and resolves with its answer (same type and id). */
function ask(worker: Worker, type: 'stats' | 'gc'): Promise<ServerMessage> {
  const id = nextId++;
  return new Promise((resolve) => {
    const onMessage = (message: ServerMessage) => {
      if (message.type !== type || !('id' in message) || message.id !== id) return;
      worker.off('message', onMessage);
      resolve(message);
    };
    worker.on('message', onMessage);
    worker.send({ type, id } satisfies ServerRequest);
  });
}

async function stats(): Promise<ServerStats> {
  const answers = await Promise.all(workers.map((w) => ask(w, 'stats')));
  const total: ServerStats = {
    requests: 0,
    commands: {},
    roundTrips: 0,
    cpuMicros: 0,
    gcMicros: 0,
    workers: [],
  };
  answers.forEach((answer, i) => {
    if (answer.type !== 'stats') return;
    total.requests += answer.requests;
    total.roundTrips += answer.roundTrips;
    total.cpuMicros += answer.cpuMicros;
    total.gcMicros += answer.gcMicros;
    for (const [name, n] of Object.entries(answer.commands))
      total.commands[name] = (total.commands[name] ?? 0) + n;
    total.workers!.push({
      pid: workers[i]!.process.pid!,
      requests: answer.requests,
      cpuMicros: answer.cpuMicros,
    });
  });
  // The primary's share (accepting connections and handing them over) belongs to the app's cost too.
  const own = process.cpuUsage();
  total.cpuMicros += own.user + own.system;
  total.gcMicros += primaryGcMicros();
  return total;
}

function shutdown(code = 0): void {
  if (closing) return;
  closing = true;
  let left = workers.filter((w) => w.process.exitCode === null && w.process.signalCode === null).length;
  if (left === 0) process.exit(code);
  for (const worker of workers) {
    worker.once('exit', () => {
      if (--left === 0) process.exit(code);
    });
    if (worker.isConnected()) worker.send({ type: 'shutdown' } satisfies ServerRequest);
    else worker.kill('SIGKILL');
  }
  setTimeout(() => {
    for (const worker of workers) worker.kill('SIGKILL');
    process.exit(code);
  }, 5000).unref();
}

const ports = await Promise.all(
  workers.map(
    (worker) =>
      new Promise<number>((resolve) => {
        const onMessage = (message: ServerMessage) => {
          if (message.type !== 'ready') return;
          worker.off('message', onMessage);
          resolve(message.port);
        };
        worker.on('message', onMessage);
      }),
  ),
);
if (new Set(ports).size !== 1)
  throw new Error(`bench workers listen on different ports: ${ports.join(', ')}`);

process.on('message', (message: ServerRequest) => {
  if (message.type === 'stats') {
    void stats().then((s) => send({ type: 'stats', id: message.id, ...s }));
  } else if (message.type === 'gc') {
    void Promise.all(workers.map((w) => ask(w, 'gc'))).then(() => send({ type: 'gc', id: message.id }));
  } else if (message.type === 'shutdown') shutdown();
});
process.on('SIGTERM', () => shutdown());
process.on('SIGINT', () => shutdown());
// Orphaned (the parent died): do not outlive it, nor let the workers.
process.on('disconnect', () => shutdown());

send({ type: 'ready', port: ports[0]! });
