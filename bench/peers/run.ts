/**
 * `npm run bench:peers [-- flags]`: express-mfa next to better-auth's twoFactor plugin, in one run with
 * interleaved rounds on the same machine. Installs bench/peers/node_modules first when it is missing
 * (never part of the main install). Both servers run in production mode (plain node,
 * NODE_ENV=production; ours on the built dist/).
 *
 * Scenarios, each side measured alone per round, in alternating order:
 *   session          ours: GET /session behind express-session + connect-redis (Redis);
 *                    better-auth: GET /session calling auth.api.getSession() (SQLite in memory)
 *   signin-verify    each request completes a distinct pending sign-in with the user's current TOTP
 *                    code. Ours: POST /auth/mfa/totp/verify after mfa.signIn (POST /bench/password);
 *                    better-auth: POST /api/auth/two-factor/verify-totp after /sign-in/email. The
 *                    pending sign-ins are started before each run, outside the measured time.
 *   floor-verify     ours only: POST /bench/floor-verify (bench/floor.ts), the same stack and round trips
 *                    as a verification with no MFA logic; set next to better-auth's signin-verify, it
 *                    says how far any library on our stack could get.
 * Then the replay check: one user, two pending sign-ins, the same code sent to both.
 *
 * Flags: --rounds 5, --duration 10 (measured seconds per scenario and side), --warmup 3,
 * --connections 10, --users 4000 (per side), --smoke (~1 s each, few users).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { startRedis } from '../../test/helpers/redis-server.js';
import { FloorRotation, floorUsers } from '../floor-rotation.js';
import { runLoad } from '../load.js';
import { type Accumulator, emptyResult, finish, machine, measureRun, quiesce } from '../measure.js';
import { productionBuild } from '../production-build.js';
import { perRequest, type ScenarioResult } from '../report.js';
import { type ServerProcess, startServer } from '../server-process.js';
import { beginSignIn, SignInRotation } from '../sign-ins.js';
import { base32Decode, STEP_MS, stepAt, totpCode } from '../totp-code.js';
import { type BenchUser, enrolUser, enrolUsers } from '../users.js';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const PASSWORD = 'bench password 1';

const { values: flags } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    users: { type: 'string' },
  },
  strict: true,
});
const smoke = flags.smoke ?? false;
const num = (v: string | undefined, fallback: number) => (v === undefined ? fallback : Number(v));
const rounds = Math.max(1, Math.floor(num(flags.rounds, smoke ? 1 : 5)));
const durationS = num(flags.duration, smoke ? 1 : 10);
const warmupS = num(flags.warmup, smoke ? 0 : 3);
const connections = Math.max(1, Math.floor(num(flags.connections, 10)));
const userCount = Math.max(50, Math.floor(num(flags.users, smoke ? 200 : 4000)));
const segmentS = durationS / rounds;
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

setFlagsFromString('--expose-gc');
const collectOwnGarbage = runInNewContext('gc') as () => void;

/** bench/peers/node_modules, installed on first use (native better-sqlite3 built against this node). */
function ensureInstalled(): void {
  if (existsSync(join(HERE, 'node_modules', 'better-auth', 'package.json'))) return;
  log('bench/peers: installing better-auth and better-sqlite3 (first run only)');
  const prefix = dirname(dirname(process.execPath));
  const headers = existsSync(join(prefix, 'include', 'node', 'node_version.h'))
    ? [`--nodedir=${prefix}`]
    : [];
  execFileSync('npm', ['install', '--no-fund', '--no-audit', ...headers], { cwd: HERE, stdio: 'inherit' });
}

/** Every `name=value` a response set, for the next request's Cookie header. */
function cookies(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .filter((c) => !c.endsWith('='))
    .join('; ');
}

async function baPost(base: string, path: string, body: unknown, cookie?: string) {
  const response = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base, ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, text, cookie: cookies(response) };
}

/** A better-auth user with TOTP on: sign-up, then /two-factor/enable (its secret from the otpauth URI). */
async function enrolBetterAuthUser(base: string, id: string): Promise<BenchUser> {
  const email = `${id}@bench.test`;
  const signUp = await baPost(base, '/api/auth/sign-up/email', { email, password: PASSWORD, name: id });
  if (signUp.status !== 200) throw new Error(`sign-up answered ${signUp.status}: ${signUp.text}`);
  const enable = await baPost(base, '/api/auth/two-factor/enable', { password: PASSWORD }, signUp.cookie);
  if (enable.status !== 200) throw new Error(`two-factor/enable answered ${enable.status}: ${enable.text}`);
  const uri = (JSON.parse(enable.text) as { totpURI: string }).totpURI;
  const secret = new URL(uri).searchParams.get('secret');
  if (!secret) throw new Error(`no secret in ${uri}`);
  return { id, key: base32Decode(secret), cookie: signUp.cookie, lastStep: 0, backupCodes: [] };
}

/** better-auth's first factor: /sign-in/email answers twoFactorRedirect and sets its two-factor cookie. */
async function beginBetterAuthSignIn(base: string, user: BenchUser): Promise<string> {
  const result = await baPost(base, '/api/auth/sign-in/email', {
    email: `${user.id}@bench.test`,
    password: PASSWORD,
  });
  if (result.status !== 200 || !result.text.includes('twoFactorRedirect')) {
    throw new Error(`sign-in/email answered ${result.status}: ${result.text}`);
  }
  return result.cookie;
}

interface Side {
  name: 'express-mfa' | 'better-auth';
  server: ServerProcess;
  rotation: SignInRotation;
  verifyPath: string;
  sessionCookie: string;
  headers: Record<string, string>;
  begin: (base: string, user: BenchUser) => Promise<string>;
  replayUser: BenchUser;
}

/** The same code on two pending sign-ins of one user: the statuses of both completions. */
async function replayCheck(side: Side): Promise<number[]> {
  const base = side.server.url;
  const user = side.replayUser;
  let step = stepAt(Date.now());
  if (step <= user.lastStep) {
    await sleep(STEP_MS - (Date.now() % STEP_MS) + 200);
    step = stepAt(Date.now());
  }
  const first = await side.begin(base, user);
  const second = await side.begin(base, user);
  const code = totpCode(user.key, step);
  user.lastStep = step;
  const statuses: number[] = [];
  for (const cookie of [first, second]) {
    const response = await fetch(base + side.verifyPath, {
      method: 'POST',
      headers: { ...side.headers, 'content-type': 'application/json', cookie },
      body: JSON.stringify({ code }),
    });
    await response.text();
    statuses.push(response.status);
  }
  return statuses;
}

async function main(): Promise<number> {
  ensureInstalled();
  const { server: ourServer, lib } = await productionBuild(log);
  await build({
    entryPoints: [join(HERE, 'better-auth-server.ts')],
    outdir: join(HERE, '.build'),
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
  });
  const redis = await startRedis();
  const admin = redis.client();
  const servers: ServerProcess[] = [];
  try {
    const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? '?';
    const host = machine(version);
    const ours = await startServer({
      redisPort: redis.port,
      mode: { kind: 'production', server: ourServer, lib },
    });
    servers.push(ours);
    const theirs = await startServer({
      redisPort: redis.port,
      mode: { kind: 'production', server: join(HERE, '.build', 'better-auth-server.js'), lib: '' },
    });
    servers.push(theirs);
    const baVersion = (
      (await import(join(HERE, 'node_modules', 'better-auth', 'package.json'), {
        with: { type: 'json' },
      })) as {
        default: { version: string };
      }
    ).default.version;

    const t0 = performance.now();
    const [ourUsers, theirUsers] = await Promise.all([
      enrolUsers([ours.url], userCount + 1, 8, 'signin-'),
      enrolUsers([theirs.url], userCount + 1, 8, 'ba-', enrolBetterAuthUser),
    ]);
    log(`enrolled ${userCount + 1} users on each side in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const guard = await enrolUser(ours.url, 'guard-user');
    // better-auth's signed-in session: a sign-in completed through its second factor.
    const baSessionUser = theirUsers.pop()!;
    const pendingCookie = await beginBetterAuthSignIn(theirs.url, baSessionUser);
    const step = stepAt(Date.now());
    const done = await baPost(
      theirs.url,
      '/api/auth/two-factor/verify-totp',
      { code: totpCode(baSessionUser.key, step) },
      pendingCookie,
    );
    if (done.status !== 200) throw new Error(`verify-totp answered ${done.status}: ${done.text}`);

    const sides: Side[] = [
      {
        name: 'express-mfa',
        server: ours,
        rotation: new SignInRotation(ourUsers.slice(1)),
        verifyPath: '/auth/mfa/totp/verify',
        sessionCookie: guard.cookie,
        headers: {},
        begin: beginSignIn,
        replayUser: ourUsers[0]!,
      },
      {
        name: 'better-auth',
        server: theirs,
        rotation: new SignInRotation(theirUsers.slice(1), beginBetterAuthSignIn),
        verifyPath: '/api/auth/two-factor/verify-totp',
        sessionCookie: done.cookie,
        headers: { origin: theirs.url },
        begin: beginBetterAuthSignIn,
        replayUser: theirUsers[0]!,
      },
    ];
    const scenarios = ['session', 'signin-verify', 'floor-verify'] as const;
    type Scenario = (typeof scenarios)[number];
    // The floor is a route of our bench server: it has no better-auth counterpart of its own.
    const sidesOf = (s: Scenario) =>
      s === 'floor-verify' ? sides.filter((x) => x.name === 'express-mfa') : sides;
    // The floor repeats no code: a few signed-in sessions serve any run, one request each at a time.
    const floorRotation = new FloorRotation(await floorUsers([ours.url], connections * 20));
    const results = new Map<string, Accumulator>();
    const perRound = new Map<string, number[]>();
    const rates = new Map<string, number>();
    for (const s of scenarios)
      for (const side of sidesOf(s)) results.set(`${s} ${side.name}`, emptyResult(`${s} ${side.name}`));

    async function prepare(scenario: Scenario, side: Side, seconds: number) {
      if (scenario === 'session') {
        return {
          spec: { method: 'GET' as const, path: '/session', headers: { cookie: side.sessionCookie } },
          maxRequests: undefined,
        };
      }
      if (scenario === 'floor-verify') {
        return {
          spec: { method: 'POST' as const, path: '/bench/floor-verify', source: floorRotation },
          maxRequests: undefined,
        };
      }
      const key = `${scenario} ${side.name}`;
      const need = Math.max(connections * 20, (rates.get(key) ?? 0) * seconds * 1.3);
      if (side.rotation.free() < need + connections) {
        const wait = STEP_MS - (Date.now() % STEP_MS) + 200;
        log(
          `  ${key}: ${side.rotation.free()} users free in this time step; waiting ${(wait / 1000).toFixed(1)} s`,
        );
        await sleep(wait);
      }
      await side.rotation.prepare(side.server.url, Math.ceil(need) + connections);
      return {
        spec: {
          method: 'POST' as const,
          path: side.verifyPath,
          headers: side.headers,
          source: side.rotation,
        },
        maxRequests: side.rotation.capacity(connections),
      };
    }

    if (warmupS > 0) {
      for (const s of scenarios) {
        for (const side of sidesOf(s)) {
          log(`warm-up ${s} ${side.name}`);
          const { spec, maxRequests } = await prepare(s, side, warmupS);
          const load = await runLoad(spec, {
            url: side.server.url,
            connections,
            durationS: warmupS,
            maxRequests,
          });
          rates.set(`${s} ${side.name}`, load.responses / Math.max(load.durationS, 0.001));
          await quiesce(side.server);
        }
      }
    }
    for (let round = 1; round <= rounds; round++) {
      for (const s of round % 2 ? scenarios : [...scenarios].reverse()) {
        for (const side of round % 2 ? sidesOf(s) : [...sidesOf(s)].reverse()) {
          const key = `${s} ${side.name}`;
          const { spec, maxRequests } = await prepare(s, side, segmentS);
          const load = await measureRun(results.get(key)!, {
            server: side.server,
            admin,
            spec,
            connections,
            durationS: segmentS,
            maxRequests,
            beforeRun: collectOwnGarbage,
          });
          const rps = load.responses / Math.max(load.durationS, 0.001);
          rates.set(key, Math.max(rates.get(key) ?? 0, rps));
          perRound.set(key, [...(perRound.get(key) ?? []), rps]);
          log(`round ${round} ${key}: ${Math.round(rps)} req/s, ${load.responses} answers`);
        }
      }
    }
    const replay = new Map<string, number[]>();
    for (const side of sides) replay.set(side.name, await replayCheck(side));
    const finished = new Map<string, ScenarioResult>([...results].map(([k, v]) => [k, finish(v)]));

    const fixed = (n: number, d: number) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
    const out: string[] = [
      '',
      '## express-mfa next to better-auth (twoFactor)',
      '',
      `Both servers in production mode (plain node, NODE_ENV=production); express-mfa on the built dist/ with express-session + connect-redis on Redis ${host.redis}; better-auth ${baVersion} + better-sqlite3 (SQLite in memory), rate limiter off.`,
      `${host.cpus} × ${host.cpuModel}, Node ${host.node}; autocannon, ${connections} connections; warm-up ${warmupS} s, then ${durationS} s per scenario and side in ${rounds} interleaved round(s).`,
      '',
      '| scenario | library | req/s | p50 ms | p99 ms | 2xx | non-2xx | server CPU µs/req | store calls /req |',
      '|---|---|---:|---:|---:|---:|---:|---:|---|',
    ];
    for (const s of scenarios) {
      for (const side of sidesOf(s)) {
        const r = finished.get(`${s} ${side.name}`)!;
        const n = r.serverRequests;
        const calls =
          side.name === 'express-mfa'
            ? `${fixed(perRequest(r.sentCommands, n), 2)} Redis commands`
            : `${fixed(perRequest(r.sentCommands, n), 2)} SQL statements`;
        out.push(
          `| ${s} | ${side.name} | ${Math.round(r.rps)} | ${fixed(r.p50Ms, 2)} | ${fixed(r.p99Ms, 2)} | ${r.ok} | ${r.non2xx + r.errors} | ${fixed(r.serverCpuMicros / n, 0)} | ${calls} |`,
        );
      }
    }
    out.push(
      '',
      '| scenario | express-mfa / better-auth req/s, per round | whole run | server CPU per request, better-auth / express-mfa |',
      '|---|---|---:|---:|',
    );
    let met = true;
    // Each row: an express-mfa scenario over the better-auth scenario it is compared with.
    const pairs = [
      ['session', 'session'],
      ['signin-verify', 'signin-verify'],
      ['floor-verify', 'signin-verify'],
    ] as const;
    for (const [ours, theirs] of pairs) {
      const a = perRound.get(`${ours} express-mfa`) ?? [];
      const b = perRound.get(`${theirs} better-auth`) ?? [];
      const ra = finished.get(`${ours} express-mfa`)!;
      const rb = finished.get(`${theirs} better-auth`)!;
      const ratio = ra.rps / rb.rps;
      if (ours === 'signin-verify') met &&= ratio >= 8;
      const label = ours === theirs ? ours : `${ours} (ours) / ${theirs} (theirs)`;
      out.push(
        `| ${label} | ${a.map((x, i) => fixed(x / (b[i] ?? Number.NaN), 2)).join(', ')} | ${fixed(ratio, 2)} | ${fixed(rb.serverCpuMicros / rb.serverRequests / (ra.serverCpuMicros / ra.serverRequests), 2)} |`,
      );
    }
    const signIn = finished.get('signin-verify express-mfa')!;
    const floor = finished.get('floor-verify express-mfa')!;
    const extra =
      signIn.serverCpuMicros / signIn.serverRequests - floor.serverCpuMicros / floor.serverRequests;
    out.push(
      '',
      `express-mfa's sign-in completion runs at ${fixed(signIn.rps / floor.rps, 2)} × the floor's req/s (the same stack and round trips with no MFA logic), with ${fixed(Math.abs(extra), 0)} µs ${extra >= 0 ? 'more' : 'less'} server CPU per request.`,
    );
    out.push('', 'Replay: one user, two pending sign-ins, the same TOTP code sent to both completions:');
    for (const side of sides) {
      const statuses = replay.get(side.name)!;
      out.push(
        `- ${side.name}: ${statuses.join(', ')} → ${statuses.every((s) => s === 200) ? 'accepted twice' : 'accepted once'}`,
      );
    }
    out.push('', `Target: signin-verify >= 8x better-auth: ${met ? 'met' : 'MISSED'}`, '');
    process.stdout.write(out.join('\n'));
    const clean = [...finished.values()].every((r) => r.responses > 0 && r.non2xx === 0 && r.errors === 0);
    for (const side of sides) {
      if (side.rotation.failures.length > 0)
        log(`${side.name} failures: ${side.rotation.failures.join(' | ')}`);
    }
    return clean ? 0 : 1;
  } finally {
    for (const server of servers) await server.close();
    admin.disconnect();
    await redis.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
