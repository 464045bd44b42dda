/**
 * `npx tsx bench/serial-compare.ts [B's dist/index.js] [flags]` (on a built checkout): the server CPU
 * a verification costs, for this checkout's built library (A) and another copy (B), in one process,
 * one request at a time. Each copy is mounted on an app and a port of its own, the floor on a third, all
 * in one process on one stack (express-session + connect-redis + ioredis with auto-pipelining, the
 * RedisStore on the same client, a throwaway redis-server). Their injected clock moves one TOTP step before every verification, so one enrolled user verifies
 * with a new valid code every time. The figure is the process's CPU (process.cpuUsage) around each
 * `/totp/verify` call alone, client included (the same for every kind), in blocks that interleave
 * the kinds, so JIT, heap and a noisy machine weigh on each alike; `floor` is bench/floor.ts's route,
 * measured the same way. `npm run bench -- --compare` compares two processes under load, whose JIT and
 * heap can differ by more than a small change; this compares code paths. Without B, A is compared
 * with itself: the noise of the method.
 *
 * Kinds: A and B (a sign-in completion: `mfa.signIn` before each, not counted), floor and floor-totp
 * (bench/floor.ts's two routes: the round trips alone, and with a TOTP check's cryptography), and with
 * `--step-up` A and B are step-up verifications of a signed-in session instead (nothing else runs
 * between two, so a profile holds only them). Flags: --requests 3000 (per kind), --blocks 10,
 * --warmup 500, --only A,floor (a subset of the kinds), --profile FILE (a V8 CPU profile of the
 * measured blocks, for bench/profile-diff.ts), --heap-profile FILE (a V8 sampling heap profile of
 * them that keeps samples of what was collected too, so it estimates everything allocated, the
 * garbage collector's work; also for profile-diff; the sampling slows the run, so that run's CPU
 * figures are not comparable with others), --smoke (a few requests, for the test suite).
 */

import { writeFileSync } from 'node:fs';
import { Agent, request, type Server } from 'node:http';
import { Session as InspectorSession } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RedisStore as SessionStore } from 'connect-redis';
import express, { type Request } from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import { startRedis } from '../test/helpers/redis-server.js';
import { floorRoutes } from './floor.js';
import { numberFlag } from './number-flag.js';
import { productionBuild } from './production-build.js';
import { BENCH_MFA_SECRET } from './protocol.js';
import { base32Decode, totpCode } from './totp-code.js';

const { values, positionals } = parseArgs({
  options: {
    requests: { type: 'string' },
    blocks: { type: 'string' },
    warmup: { type: 'string' },
    only: { type: 'string' },
    profile: { type: 'string' },
    'heap-profile': { type: 'string' },
    'step-up': { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const smoke = values.smoke ?? false;
const whole = (name: string, text: string | undefined, fallback: number) =>
  Math.floor(numberFlag(name, text, fallback, 1));
const requests = whole('requests', values.requests, smoke ? 20 : 3000);
const blocks = whole('blocks', values.blocks, smoke ? 2 : 10);
const warmup = whole('warmup', values.warmup, smoke ? 10 : 500);
const stepUp = values['step-up'] ?? false;
const KINDS = ['A', 'B', 'floor', 'floor-totp'] as const;
type Kind = (typeof KINDS)[number];
const kinds = (values.only?.split(',') ?? [...KINDS]) as Kind[];
for (const kind of kinds) {
  if (!KINDS.includes(kind)) throw new Error(`--only takes kinds among ${KINDS.join(', ')}, got ${kind}`);
}
// A is this checkout's dist/, rebuilt first when lib/ is newer (as every production-mode bench does).
const libA = (await productionBuild((line) => process.stderr.write(`${line}\n`))).lib;
const libB = positionals[0] ? new URL(positionals[0], `file://${process.cwd()}/`).href : libA;
process.env.NODE_ENV = 'production';

type Lib = typeof import('../lib/index.js');
const appSession = (req: Request) => req.session as Request['session'] & { user?: { id: string } };

const server = await startRedis();
// Everything after the throwaway redis-server starts runs in here, so an error never leaves it running.
const closers: (() => void)[] = [];
try {
  const redis = new Redis({ port: server.port, enableAutoPipelining: true, enableOfflineQueue: false });
  closers.push(() => redis.disconnect());

  // Each kind gets an app and a port of its own, so none routes past another's layers; all share the
  // session store, its secret and the Redis client, so a cookie of one is good on the others.
  const sessions = session({
    store: new SessionStore({ client: redis, prefix: 'sess:' }),
    secret: 'serial compare session secret',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax' },
  });
  const listeners: Server[] = [];
  closers.push(() => {
    for (const listener of listeners) listener.close();
  });
  async function listen(routes: (app: express.Express) => void): Promise<number> {
    const app = express();
    app.disable('x-powered-by');
    app.use(sessions);
    app.post('/bench/login', express.json(), (req, res, next) => {
      req.session.regenerate((error) => {
        if (error) return next(error);
        appSession(req).user = { id: String(req.body.id) };
        req.session.save((e) => (e ? next(e) : res.json({ ok: true })));
      });
    });
    routes(app);
    const listener = app.listen(0, '127.0.0.1');
    listeners.push(listener);
    await new Promise((resolve) => listener.once('listening', resolve));
    return (listener.address() as AddressInfo).port;
  }

  interface Variant {
    name: string;
    port: number;
  }
  // One clock for both: they share the user's records, its last accepted step included.
  const clock = { now: Date.now() };
  async function mount(name: string, url: string): Promise<Variant> {
    // A copy loaded from another path is its own module instance (?variant keeps A and A apart too).
    const lib = (await import(`${url}?variant=${name}`)) as Lib;
    const mfa = lib.createMfa({
      issuer: 'Bench',
      store: new lib.RedisStore({ client: redis }),
      secret: BENCH_MFA_SECRET,
      now: () => clock.now,
      getUser: (req) => appSession(req).user,
      onLogin: (req, id) => {
        appSession(req).user = { id };
      },
    });
    const port = await listen((app) => {
      app.post('/bench/password', express.json(), async (req, res, next) => {
        try {
          clock.now += 30_000;
          res.json(await mfa.signIn(req, res, { id: String(req.body.id) }));
        } catch (error) {
          next(error);
        }
      });
      app.use('/auth/mfa', mfa.router);
    });
    return { name, port };
  }
  const variants = [await mount('A', libA), await mount('B', libB)];
  const floor = floorRoutes(redis, (req) => appSession(req).user);
  const floorPort = await listen((app) => app.use(floor.router));
  await floor.prepare();
  const agents = new Map<number, Agent>();
  closers.push(() => {
    for (const agent of agents.values()) agent.destroy();
  });

  function post(port: number, path: string, body: unknown, cookie?: string) {
    let agent = agents.get(port);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxSockets: 1 });
      agents.set(port, agent);
    }
    return new Promise<{ status: number; json: Record<string, unknown>; cookie?: string }>(
      (resolve, reject) => {
        const payload = JSON.stringify(body);
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path,
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(payload),
              ...(cookie ? { cookie } : {}),
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
              text += chunk;
            });
            res.on('end', () => {
              const set = res.headers['set-cookie']?.[0]?.split(';')[0];
              resolve({ status: res.statusCode ?? 0, json: JSON.parse(text || '{}'), cookie: set ?? cookie });
            });
          },
        );
        req.on('error', reject);
        req.end(payload);
      },
    );
  }

  // One user, enrolled through A (both copies read the same records: same secret, same prefix).
  const enrolAt = variants[0]!.port;
  const login = await post(enrolAt, '/bench/login', { id: 'serial-user' });
  const setup = await post(enrolAt, '/auth/mfa/totp/setup', {}, login.cookie);
  const key = base32Decode(String(setup.json.secret));
  const step = () => Math.floor(clock.now / 30_000);
  const confirmed = await post(
    enrolAt,
    '/auth/mfa/totp/confirm',
    { code: totpCode(key, step()) },
    login.cookie,
  );
  if (confirmed.status !== 200) throw new Error(`confirm answered ${confirmed.status}`);

  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };

  /** CPU µs of one `/totp/verify` on `v`: a sign-in completion, or a step-up of `stepCookies`' session. */
  const stepCookies = new Map<Variant, string | undefined>();
  async function verifyOnce(v: Variant): Promise<number> {
    let cookie: string | undefined;
    if (stepUp) {
      clock.now += 30_000;
      // Each copy steps up a session of its own: a verification replaces the session it verified.
      cookie = stepCookies.get(v) ?? (await post(v.port, '/bench/login', { id: 'serial-user' })).cookie;
    } else {
      const pending = await post(v.port, '/bench/password', { id: 'serial-user' });
      if (pending.json.status !== 'mfa_required') {
        throw new Error(`signIn answered ${JSON.stringify(pending.json)}`);
      }
      cookie = pending.cookie;
    }
    const code = totpCode(key, step());
    const before = cpu();
    const done = await post(v.port, '/auth/mfa/totp/verify', { code }, cookie);
    const spent = cpu() - before;
    if (done.status !== 200) {
      throw new Error(`${v.name} verify answered ${done.status} ${JSON.stringify(done.json)}`);
    }
    if (stepUp) stepCookies.set(v, done.cookie);
    return spent;
  }

  /** A floor route's verification (bench/floor.ts), in a session of its own. */
  async function floorKind(path: string, user: string): Promise<() => Promise<number>> {
    let cookie = (await post(floorPort, '/bench/login', { id: user })).cookie;
    return async () => {
      const before = cpu();
      const done = await post(floorPort, path, { code: '123456' }, cookie);
      const spent = cpu() - before;
      if (done.status !== 200) throw new Error(`${path} answered ${done.status}`);
      cookie = done.cookie;
      return spent;
    };
  }

  const runs: Record<Kind, () => Promise<number>> = {
    A: () => verifyOnce(variants[0]!),
    B: () => verifyOnce(variants[1]!),
    floor: await floorKind('/bench/floor-verify', 'floor-user'),
    'floor-totp': await floorKind('/bench/floor-totp-verify', 'floor-totp-user'),
  };
  // Warm-up, not counted: every path optimised before the first block.
  for (const kind of kinds) for (let i = 0; i < warmup; i++) await runs[kind]();

  const profiler = values.profile || values['heap-profile'] ? new InspectorSession() : undefined;
  profiler?.connect();
  if (profiler && values.profile) {
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  if (profiler && values['heap-profile']) {
    // Every allocation counts, also what the next minor GC collects: that garbage is the GC's work.
    await profiler.post('HeapProfiler.enable');
    await profiler.post('HeapProfiler.startSampling', {
      samplingInterval: 256,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  // Blocks of interleaved requests (the kinds in turn, the order turning each time), so a drift of
  // the machine's speed weighs on each alike; a block's figure is its mean.
  const per = Math.ceil(requests / blocks);
  const totals = new Map<Kind, number[]>(kinds.map((kind) => [kind, []]));
  for (let b = 0; b < blocks; b++) {
    const spent = new Map<Kind, number>(kinds.map((kind) => [kind, 0]));
    for (let i = 0; i < per; i++) {
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(i + k) % kinds.length]!;
        spent.set(kind, spent.get(kind)! + (await runs[kind]()));
      }
    }
    for (const kind of kinds) totals.get(kind)!.push(spent.get(kind)! / per);
  }
  if (profiler && values.profile) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(values.profile, JSON.stringify(profile));
  }
  if (profiler && values['heap-profile']) {
    const { profile } = await profiler.post('HeapProfiler.stopSampling');
    writeFileSync(values['heap-profile'], JSON.stringify(profile));
  }
  profiler?.disconnect();

  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const mean = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;
  const what = stepUp ? 'step-up verifications' : 'sign-in completions';
  const out = [
    `A = ${fileURLToPath(libA)} (${what})`,
    `B = ${fileURLToPath(libB)} (${what})`,
    `floor, floor-totp = bench/floor.ts (/bench/floor-verify, /bench/floor-totp-verify)`,
    `${blocks} blocks of ${per} requests of each kind (${kinds.join(', ')}), interleaved, one at a time; CPU of this process per request:`,
    ...kinds.map((kind) => {
      const xs = totals.get(kind)!;
      return `${kind.padEnd(10)} mean ${mean(xs).toFixed(1)} µs, median ${median(xs).toFixed(1)} µs (blocks: ${xs.map((x) => x.toFixed(0)).join(' ')})`;
    }),
  ];
  const a = totals.get('A');
  const b = totals.get('B');
  const floors = [
    ['floor', totals.get('floor')],
    ['floor-totp', totals.get('floor-totp')],
  ] as const;
  if (a && b) {
    out.push(
      `B/A ${(mean(b) / mean(a)).toFixed(3)} (per block: ${b.map((x, i) => (x / a[i]!).toFixed(3)).join(' ')})`,
    );
  }
  for (const [name, xs] of [
    ['A', a],
    ['B', b],
  ] as const) {
    for (const [floor, f] of floors) {
      if (xs && f) out.push(`${name} - ${floor}: ${(mean(xs) - mean(f)).toFixed(0)} µs`);
    }
  }
  if (values.profile)
    out.push(`profile of the measured blocks: ${values.profile} (${per * blocks} requests of each kind)`);
  if (values['heap-profile']) {
    out.push(
      `heap profile (sampled) of the measured blocks: ${values['heap-profile']} (${per * blocks} requests of each kind, ${per * blocks * kinds.length} in all; the sampling slowed this run: its CPU figures compare only with each other)`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  for (const close of closers) close();
  await server.close();
}
