/**
 * The app under test, in its own process (forked by bench/run.ts): express-session on connect-redis
 * 8.1 over ioredis, the MFA router on a RedisStore sharing that client, and one route per scenario.
 *
 *   GET  /hello              plain Express, no session: the framework's floor
 *   GET  /session            behind express-session (signed-in session)
 *   GET  /guard              the same handler behind requireMfa(5 min)
 *   POST /auth/mfa/...       the real router (totp/setup, totp/confirm, totp/verify, backup-codes/verify,
 *                            webauthn/register/*, webauthn/verify/*)
 *   POST /bench/login {id}   bench-only: a signed-in session for user `id` (the app's primary login)
 *   POST /bench/floor-verify bench-only: the same-work floor of a TOTP step-up (bench/floor.ts)
 *   POST /bench/password {id} bench-only: the app's password step, then `mfa.signIn` (a pending sign-in
 *                            for an enrolled user, completed by POST /auth/mfa/totp/verify)
 *
 * The parent talks to it over IPC only, so reading counters adds no HTTP request and no Redis command:
 * it answers `{ type: 'stats' }` with the requests seen and the Redis commands this process sent
 * (client side, so a Lua script counts once; Redis's own INFO commandstats also counts what the
 * script runs inside). Env: REDIS_PORT (required), BENCH_HOST (default 127.0.0.1), BENCH_LIB (file URL
 * of the library's index: the built dist/index.js in production mode, lib/index.ts in dev mode, or
 * another copy for A/B runs), BENCH_AUTO_PIPELINING=0 (auto-pipelining off), BENCH_DATABASE_URL (MFA records in a
 * PostgresStore on that database instead of the RedisStore; sessions stay in Redis),
 * BENCH_REDIS_CLUSTER (comma-separated ports of Redis Cluster nodes: sessions and records on the
 * cluster through one ioredis Cluster client, instead of REDIS_PORT). Forked by server-workers.ts,
 * several of these share one port (Node's cluster module): the IPC protocol is then the primary's.
 */
import { RedisStore as SessionStore } from 'connect-redis';
import express, { type Request, type RequestHandler } from 'express';
import session from 'express-session';
import { Cluster, Redis } from 'ioredis';
import { floorRoutes } from './floor.js';
import { gcClock } from './gc-time.js';
import {
  BENCH_MFA_SECRET,
  BENCH_ORIGIN,
  BENCH_RP_ID,
  type ServerMessage,
  type ServerRequest,
} from './protocol.js';

// BENCH_LIB (a file URL) swaps in another copy of the library, for A/B runs (`--compare`).
const libUrl = process.env.BENCH_LIB || new URL('../lib/index.js', import.meta.url).href;
const { createMfa, MINUTE, RedisStore } = (await import(libUrl)) as typeof import('../lib/index.js');

/** The app's own key in the session, typed through an accessor (no global SessionData augmentation). */
const appSession = (req: Request) => req.session as Request['session'] & { user?: { id: string } };

const redisPort = Number(process.env.REDIS_PORT);
if (!process.env.BENCH_REDIS_CLUSTER && !(Number.isInteger(redisPort) && redisPort > 0)) {
  throw new Error('bench/server.ts needs REDIS_PORT (or BENCH_REDIS_CLUSTER)');
}
const host = process.env.BENCH_HOST ?? '127.0.0.1';

// Configured as the README recommends: fail fast, never queue or replay.
const failFast = { maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false };
// On, as the README recommends (the commands of one tick leave in one write); BENCH_AUTO_PIPELINING=0
// (`--no-auto-pipelining`, or B of `--compare-auto-pipelining`) measures what it changes.
const enableAutoPipelining = process.env.BENCH_AUTO_PIPELINING !== '0';
// BENCH_REDIS_CLUSTER: sessions and MFA records on a Redis Cluster (one ioredis Cluster client for both).
const clusterPorts = process.env.BENCH_REDIS_CLUSTER?.split(',').filter(Boolean).map(Number) ?? [];
const redis: Redis | Cluster =
  clusterPorts.length > 0
    ? new Cluster(
        clusterPorts.map((port) => ({ host: '127.0.0.1', port })),
        { enableOfflineQueue: false, enableAutoPipelining, redisOptions: failFast },
      )
    : new Redis({
        host: '127.0.0.1',
        port: redisPort,
        enableOfflineQueue: false,
        enableAutoPipelining,
        ...failFast,
      });

/** Redis commands sent by this process, by name: every command of both stores goes through here. */
const commands: Record<string, number> = {};
/**
 * Commands issued before the event loop next polls for I/O are in flight together (no answer can
 * arrive in between): they count as one round trip.
 */
let roundTrips = 0;
let turnOpen = false;
const closeTurn = () => {
  turnOpen = false;
};
const sendCommand = redis.sendCommand.bind(redis);
// (A Cluster's sendCommand takes a third argument, the node: passed on as it came.)
redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
  commands[command.name] = (commands[command.name] ?? 0) + 1;
  if (!turnOpen) {
    turnOpen = true;
    roundTrips++;
    setImmediate(closeTurn);
  }
  return (sendCommand as (c: unknown, ...r: unknown[]) => unknown)(command, ...rest);
}) as typeof redis.sendCommand;

let requests = 0;
const countRequests: RequestHandler = (_req, _res, next) => {
  requests++;
  next();
};

/** MFA records: the RedisStore on the session client, or with BENCH_DATABASE_URL a PostgresStore. */
async function recordStore() {
  const url = process.env.BENCH_DATABASE_URL;
  if (!url) return new RedisStore({ client: redis });
  const [{ default: pg }, { PostgresStore }] = await Promise.all([
    import('pg'),
    import(new URL('./stores/postgres-store.js', libUrl).href) as Promise<
      typeof import('../lib/stores/postgres-store.js')
    >,
  ]);
  // As many connections as the load generator has, so requests never queue for one; kept open while
  // idle, as under steady traffic (the gaps between measured runs are the bench's, not the app's).
  const store = new PostgresStore({
    pool: new pg.Pool({ connectionString: url, max: 10, idleTimeoutMillis: 0 }),
  });
  await store.ready();
  return store;
}

/**
 * BENCH_OTEL=1: express-mfa/opentelemetry on the OpenTelemetry SDK, as an operator would run it: a
 * meter provider with a reader (collected every 10 s, as a periodic exporter would) and a tracer
 * provider whose processor hands every ended span to an exporter that drops it (no network).
 */
async function telemetry() {
  if (process.env.BENCH_OTEL !== '1') return undefined;
  const [{ openTelemetry }, { MeterProvider, MetricReader }, trace] = await Promise.all([
    import(new URL('./telemetry/index.js', libUrl).href) as Promise<
      typeof import('../lib/telemetry/index.js')
    >,
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  class Reader extends MetricReader {
    protected async onShutdown() {}
    protected async onForceFlush() {}
  }
  const reader = new Reader();
  setInterval(() => void reader.collect(), 10_000).unref();
  const exporter: import('@opentelemetry/sdk-trace-base').SpanExporter = {
    export: (_spans, done) => done({ code: 0 }),
    shutdown: async () => {},
  };
  return openTelemetry({
    meter: new MeterProvider({ readers: [reader] }).getMeter('bench'),
    tracer: new trace.BasicTracerProvider({
      spanProcessors: [new trace.BatchSpanProcessor(exporter)],
    }).getTracer('bench'),
  });
}
const otel = await telemetry();

const mfa = createMfa({
  issuer: 'Bench',
  ...(otel ? { onEvent: otel.onEvent } : {}),
  store: await recordStore(),
  secret: BENCH_MFA_SECRET,
  getUser: (req) => appSession(req).user,
  // A completed sign-in (signIn, then a second factor) hands the user to the app here.
  onLogin: (req, id) => {
    appSession(req).user = { id };
  },
  webauthn: { rpId: BENCH_RP_ID, origin: BENCH_ORIGIN },
});

const ok: RequestHandler = (req, res) => {
  if (!appSession(req).user) {
    res.status(401).json({ error: 'unauthenticated' });
    return;
  }
  res.json({ ok: true });
};

const app = express();
app.disable('x-powered-by');
app.use(countRequests);
app.get('/hello', (_req, res) => {
  res.json({ ok: true });
});
app.use(
  session({
    store: new SessionStore({ client: redis, prefix: 'sess:' }),
    secret: 'bench session secret',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax' },
  }),
);
app.post('/bench/login', express.json(), (req, res, next) => {
  const id: unknown = req.body?.id;
  if (typeof id !== 'string' || id === '') {
    res.status(400).json({ error: 'invalid_request' });
    return;
  }
  req.session.regenerate((error) => {
    if (error) return next(error);
    appSession(req).user = { id };
    req.session.save((saveError) => (saveError ? next(saveError) : res.json({ ok: true })));
  });
});
// The app's password step (always right here), then the second-factor sign-in: the answer is
// `mfa_required` with a pending session for an enrolled user.
app.post('/bench/password', express.json(), async (req, res, next) => {
  const id: unknown = req.body?.id;
  if (typeof id !== 'string' || id === '') {
    res.status(400).json({ error: 'invalid_request' });
    return;
  }
  try {
    res.json(await mfa.signIn(req, res, { id }));
  } catch (error) {
    next(error);
  }
});
// The same-work floor of a TOTP step-up without express-mfa (bench/floor.ts).
const floor = floorRoutes(redis, (req) => appSession(req).user);
app.use(floor.router);
app.get('/session', ok);
app.get('/guard', mfa.requireMfa(5 * MINUTE), ok);
if (otel) app.use('/auth/mfa', otel.spans, mfa.router);
else app.use('/auth/mfa', mfa.router);

// (With a PostgresStore the client may have become ready while that store was being checked.)
if (redis.status !== 'ready') {
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
}

await floor.prepare();
const server = app.listen(0, host);
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.once('listening', () => resolve()));
const address = server.address();
if (address === null || typeof address === 'string') throw new Error('no address');

let closing = false;
function shutdown(): void {
  if (closing) return;
  closing = true;
  server.closeAllConnections();
  server.close();
  redis.disconnect();
  // A normal exit writes the --cpu-prof profile; the timer only bounds a stuck close.
  setTimeout(() => process.exit(0), 2000).unref();
  server.once('close', () => process.exit(0));
}

const gcMicros = gcClock();
const send = (message: ServerMessage) => process.send?.(message);
process.on('message', (message: ServerRequest) => {
  if (message.type === 'stats') {
    const cpu = process.cpuUsage();
    send({
      type: 'stats',
      id: message.id,
      requests,
      commands: { ...commands },
      roundTrips,
      cpuMicros: cpu.user + cpu.system,
      gcMicros: gcMicros(),
    });
  } else if (message.type === 'gc') {
    // Between runs: the next scenario must not pay for the garbage the previous one left.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    send({ type: 'gc', id: message.id });
  } else if (message.type === 'memory') {
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    send({ type: 'memory', id: message.id, rss, heapUsed, heapTotal, external });
  } else if (message.type === 'shutdown') shutdown();
});
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// Orphaned (the parent died): do not outlive it.
process.on('disconnect', shutdown);

send({ type: 'ready', port: address.port });
if (!process.send) console.log(`bench server on http://${host}:${address.port} (redis ${redisPort})`);
