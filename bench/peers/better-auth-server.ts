/**
 * better-auth with its twoFactor plugin, as its documentation sets it up, in its own process (forked
 * by bench/peers/run.ts, same IPC protocol as bench/server.ts): SQLite in memory through better-sqlite3,
 * email and password sign-in, the rate limiter off (ours has no request rate limiter either), Express 5
 * in front through better-auth's Node handler.
 *
 *   GET  /hello                          plain Express
 *   GET  /session                        auth.api.getSession(): 200 with a session, else 401
 *   *    /api/auth/*                     better-auth's routes (sign-up/email, sign-in/email,
 *                                        two-factor/enable, two-factor/verify-totp, ...)
 *
 * Password hashing is the one change from the defaults: a fast keyed hash, because every pending
 * sign-in the load needs is prepared through /sign-in/email outside the measured time and scrypt would
 * make that preparation the run's bottleneck; nothing measured hashes a password.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { fromNodeHeaders, toNodeHandler } from 'better-auth/node';
import { twoFactor } from 'better-auth/plugins/two-factor';
import Database from 'better-sqlite3';
import express from 'express';

type Message = { type: 'stats'; id: number } | { type: 'gc'; id: number } | { type: 'shutdown' };

const db = new Database(':memory:');
/** SQL statements run, by kind (SELECT, INSERT, ...): every query of better-auth's Kysely adapter prepares one. */
const statements: Record<string, number> = {};
const prepare = db.prepare.bind(db);
db.prepare = ((sql: string) => {
  const kind = `sql ${/^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase() ?? '?'}`;
  statements[kind] = (statements[kind] ?? 0) + 1;
  return prepare(sql);
}) as typeof db.prepare;

const hashed = (password: string) => createHash('sha256').update(`bench:${password}`).digest('hex');

// Listening first: better-auth wants its own URL (cookies, origin checks) when it is created.
const server = createServer();
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1');
await new Promise<void>((resolve) => server.once('listening', () => resolve()));
const address = server.address();
if (address === null || typeof address === 'string') throw new Error('no address');
const baseURL = `http://127.0.0.1:${address.port}`;

const auth = betterAuth({
  baseURL,
  secret: 'bench-only better-auth secret, at least 32 characters',
  database: db,
  emailAndPassword: {
    enabled: true,
    password: {
      hash: async (password) => hashed(password),
      verify: async ({ hash, password }) => timingSafeEqual(Buffer.from(hash), Buffer.from(hashed(password))),
    },
  },
  rateLimit: { enabled: false },
  plugins: [twoFactor({ issuer: 'Bench', skipVerificationOnEnable: true })],
  telemetry: { enabled: false },
  logger: { level: 'error' },
});
const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

let requests = 0;
const app = express();
app.disable('x-powered-by');
app.use((_req, _res, next) => {
  requests++;
  next();
});
app.get('/hello', (_req, res) => {
  res.json({ ok: true });
});
app.get('/session', async (req, res, next) => {
  try {
    const session = await auth.api.getSession({ headers: fromNodeHeaders(req.headers) });
    if (!session) res.status(401).json({ error: 'unauthenticated' });
    else res.json({ ok: true });
  } catch (error) {
    next(error);
  }
});
app.all('/api/auth/*splat', toNodeHandler(auth));

server.on('request', app);

let closing = false;
function shutdown(): void {
  if (closing) return;
  closing = true;
  server.closeAllConnections();
  server.close();
  setTimeout(() => process.exit(0), 2000).unref();
  server.once('close', () => process.exit(0));
}
const send = (message: unknown) => process.send?.(message);
process.on('message', (message: Message) => {
  if (message.type === 'stats') {
    const cpu = process.cpuUsage();
    const total = Object.values(statements).reduce((a, b) => a + b, 0);
    send({
      type: 'stats',
      id: message.id,
      requests,
      commands: { ...statements },
      // SQLite in process: every statement is a synchronous call, none waits on a socket.
      roundTrips: total,
      cpuMicros: cpu.user + cpu.system,
    });
  } else if (message.type === 'gc') {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    send({ type: 'gc', id: message.id });
  } else if (message.type === 'shutdown') shutdown();
});
process.on('SIGTERM', shutdown);
process.on('disconnect', shutdown);
send({ type: 'ready', port: address.port });
if (!process.send) console.log(`better-auth on ${baseURL}`);
