import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { startRedis } from '../helpers/redis-server.js';
import {
  consumerEnv,
  consumerProject,
  exec,
  extractInto,
  packTarball,
  quickStart,
  root,
  runJson,
} from './consumer-projects.js';

// The local consumer lives inside the repo (.tmp/ is git-ignored) so the packed package finds the
// optional SDKs in our node_modules, for the adapter tests; the matrix below installs real
// consumers from the registry, outside the repo.
const work = join(root, '.tmp', 'consumer');
const installed = join(work, 'node_modules', 'express-mfa');

const EXPRESS_SESSION = '^1.18.1';
/** The dependency sets of the consumer projects (each installed once, then cached). */
const SETS = {
  express4: {
    express: '^4.21.2',
    'express-session': EXPRESS_SESSION,
    passport: '^0.7.0',
    'passport-local': '^1.0.0',
    'cookie-session': '^2.1.0',
    otplib: '^13.5.0',
  },
  express5: { express: '^5.1.0', 'express-session': EXPRESS_SESSION },
  jest: { jest: '^30.0.0', express: '^5.1.0', 'express-session': EXPRESS_SESSION },
  typescript: {
    typescript: '~5.9.3',
    '@types/express': '^5.0.3',
    '@types/express-session': '^1.18.2',
    '@types/node': '^20.19.0',
    '@types/passport': '^1.0.17',
    express: '^5.1.0',
    'express-session': EXPRESS_SESSION,
    'connect-redis': '8.1.0',
    ioredis: '^6.0.0',
  },
  // The Quick start against Express 4's types (@types/express 4), as an Express 4 app compiles it.
  tsExpress4: {
    typescript: '~5.9.3',
    '@types/express': '^4.17.21',
    '@types/express-session': '^1.18.2',
    '@types/node': '^20.19.0',
    express: '^4.21.2',
    'express-session': EXPRESS_SESSION,
    'connect-redis': '8.1.0',
    ioredis: '^6.0.0',
  },
  // node-redis 5 with connect-redis 9 (the current major, node-redis only): one client for both.
  nodeRedis: {
    express: '^5.1.0',
    'express-session': EXPRESS_SESSION,
    'connect-redis': '^9.0.0',
    redis: '^5.0.0',
    otplib: '^13.5.0',
  },
  // node-redis 4 (connect-redis 9 wants 5): connect-redis 8.1 on it, under Express 4.
  nodeRedis4: {
    express: '^4.21.2',
    'express-session': EXPRESS_SESSION,
    'connect-redis': '8.1.0',
    redis: '^4.7.0',
    otplib: '^13.5.0',
  },
  // ioredis 5: express-mfa must use the app's copy (an optional peer), types included.
  ioredis5: {
    express: '^5.1.0',
    'express-session': EXPRESS_SESSION,
    'connect-redis': '8.1.0',
    ioredis: '^5.0.0',
    otplib: '^13.5.0',
    typescript: '~5.9.3',
    '@types/express': '^5.0.3',
    '@types/express-session': '^1.18.2',
    '@types/node': '^20.19.0',
  },
} as const;
type SetName = keyof typeof SETS;

let tarball: string;
const projects = {} as Record<SetName, string>;

before(async () => {
  // `npm pack` runs the prepack build first, so this always tests the current sources.
  tarball = await packTarball();
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  await extractInto(work, tarball);
  // Independent projects: installed (first run) or refreshed (later runs) side by side.
  await Promise.all(
    (Object.keys(SETS) as SetName[]).map(async (name) => {
      projects[name] = await consumerProject(name, SETS[name], tarball);
    }),
  );
});

const run = (file: string, source: string) => {
  writeFileSync(join(work, file), source);
  return execFileSync(process.execPath, [file], { cwd: work, encoding: 'utf8' }).trim();
};

const program = (load: string) => `${load}
const mfa = createMfa({ issuer: 'Acme', store: new MemoryStore(), secret: 'x'.repeat(32), getUser: () => undefined });
console.log([typeof mfa.router, typeof mfa.requireMfa(5 * MINUTE), MINUTE].join(' '));`;

test('a CommonJS app can require the packed package', () => {
  const out = run('app.cjs', program("const { createMfa, MemoryStore, MINUTE } = require('express-mfa');"));
  assert.equal(out, 'function function 60000');
});

test('an ESM app can import the packed package', () => {
  const out = run('app.mjs', program("import { createMfa, MemoryStore, MINUTE } from 'express-mfa';"));
  assert.equal(out, 'function function 60000');
});

test('the tarball ships both builds with their types and the licence, not the sources, tests or maps', () => {
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  for (const [sub, file] of [
    ['.', 'index'],
    ['./sendgrid', 'delivery/sendgrid'],
    ['./twilio', 'delivery/twilio'],
  ] as const) {
    assert.deepEqual(manifest.exports[sub], {
      import: { types: `./dist/${file}.d.ts`, default: `./dist/${file}.js` },
      require: { types: `./dist/cjs/${file}.d.ts`, default: `./dist/cjs/${file}.js` },
    });
    for (const built of [
      `dist/${file}.js`,
      `dist/${file}.d.ts`,
      `dist/cjs/${file}.js`,
      `dist/cjs/${file}.d.ts`,
    ]) {
      assert.ok(existsSync(join(installed, built)), built);
    }
  }
  assert.equal(JSON.parse(readFileSync(join(installed, 'dist/cjs/package.json'), 'utf8')).type, 'commonjs');
  assert.match(
    readFileSync(join(installed, 'LICENSE'), 'utf8'),
    /MIT License[\s\S]*express-mfa contributors/,
  );
  // No source maps: they would point at sources the package does not ship.
  const files = execFileSync('find', [join(installed, 'dist'), '-name', '*.map'], { encoding: 'utf8' });
  assert.equal(files.trim(), '');
  assert.ok(!existsSync(join(installed, 'lib')));
  assert.ok(!existsSync(join(installed, 'test')));
  assert.ok(!existsSync(join(installed, 'example-app')));
  assert.equal(manifest.peerDependenciesMeta.twilio.optional, true);
  assert.equal(manifest.peerDependenciesMeta['@sendgrid/mail'].optional, true);
});

// The provider SDKs are optional peers: only these subpaths load them.
const adapters = `
const email = sendgridEmail({ apiKey: 'SG.x', from: 'no-reply@acme.test' });
const sms = twilioSms({ accountSid: 'AC' + '0'.repeat(32), authToken: 't', from: '+15005550006' });
console.log(typeof email.send, typeof sms.send);`;

test('the SendGrid and Twilio adapters load from their subpaths, in ESM and CommonJS', () => {
  const esm = run(
    'adapters.mjs',
    `import { sendgridEmail } from 'express-mfa/sendgrid';\nimport { twilioSms } from 'express-mfa/twilio';${adapters}`,
  );
  assert.equal(esm, 'function function');
  const cjs = run(
    'adapters.cjs',
    `const { sendgridEmail } = require('express-mfa/sendgrid');\nconst { twilioSms } = require('express-mfa/twilio');${adapters}`,
  );
  assert.equal(cjs, 'function function');
});

const STORE_DOWN =
  'express-mfa: the session store failed: Connection is closed.; every request is answered 503 until it recovers.';

describe('consumers installed from the registry', { concurrency: true }, () => {
  for (const [set, major] of [
    ['express4', '4'],
    ['express5', '5'],
  ] as const) {
    for (const file of ['app.cjs', 'app.mjs']) {
      test(`Express ${major}, ${file.endsWith('.cjs') ? 'CommonJS' : 'ESM'}: async errors answer, outages are 503 JSON, the process lives`, async () => {
        const out = await runJson(projects[set], file);
        assert.equal(out.express.split('.')[0], major);
        assert.equal(out.setup.status, 401);
        assert.equal(out.setup.body.error, 'unauthenticated');
        assert.equal(out.badCode.status, 400);
        assert.equal(out.badCode.body.error, 'invalid_request');
        assert.equal(out.notFound.status, 404);
        assert.equal(out.notFound.body.error, 'not_found');
        assert.equal(out.badJson.status, 400);
        assert.equal(out.badJson.body.error, 'invalid_request');
        assert.equal(out.form.status, 415);
        assert.equal(out.form.body.error, 'unsupported_media_type');
        assert.deepEqual(out.alive.body, { alive: true });
        for (const answer of [out.outage, out.outageRouter]) {
          assert.equal(answer.status, 503);
          assert.match(answer.type, /application\/json/);
          assert.equal(answer.body.error, 'unavailable');
        }
        assert.equal(out.mfaErrorClass, true);
        assert.deepEqual(out.lines, [STORE_DOWN]);
      });
    }
  }

  test('Passport with numeric ids: enrol, verify, the guard and the admin API see one user', async () => {
    const out = await runJson(projects.express4, 'passport.cjs');
    assert.deepEqual(out.login.body, { id: 42 });
    assert.equal(out.setup, 200);
    assert.deepEqual(out.confirm, { status: 200, backupCodes: 10 });
    assert.deepEqual(out.guarded.body, { id: 42 });
    assert.equal(out.status, '42');
    assert.deepEqual(out.factorsByNumber, ['totp', 'backup_codes']);
    assert.deepEqual(out.factorsByString, ['totp', 'backup_codes']);
    assert.deepEqual(out.adminByNumber, ['totp', 'backup_codes']);
    assert.equal(out.twilio, 'express-mfa: install twilio to use express-mfa/twilio (npm install twilio).');
  });

  test('each misuse is one logged sentence, once', async () => {
    const out = await runJson(projects.express4, 'misuse.mjs', { NODE_ENV: 'production' });
    assert.equal(out.lines.production.length, 1);
    assert.match(
      out.lines.production[0],
      /^express-mfa: MemoryStore under NODE_ENV=production .*use RedisStore\.$/,
    );
    assert.equal(out.noSession.status, 503);
    assert.deepEqual(out.lines.noSession, [
      'express-mfa: no session on the request: either no session middleware runs before app.use(path, mfa.router), or its store is not connected. Add app.use(mfa.session(session({ ... }))) before the router (mfa.session also reports store outages).',
    ]);
    assert.deepEqual(out.noPath.body, { later: true });
    assert.deepEqual(out.lines.noPath, [
      "express-mfa: the router is mounted without a path: use app.use('/auth/mfa', mfa.router). It ignores every request until then.",
    ]);
    assert.equal(out.cookieSession.status, 503);
    assert.deepEqual(out.lines.cookieSession, [
      'express-mfa: the session middleware cannot regenerate or save sessions (cookie-session cannot): use express-session.',
    ]);
    assert.equal(out.neverConnects.status, 503);
    assert.deepEqual(out.lines.neverConnects, [
      'express-mfa: the session store is not connected (express-session went on without a session); every request is answered 503 until it recovers.',
    ]);
    assert.match(out.bufferSecret, /`secret` must be a string, not a Buffer/);
    assert.equal(
      out.sendgrid,
      'express-mfa: install @sendgrid/mail to use express-mfa/sendgrid (npm install @sendgrid/mail).',
    );
  });

  test("Jest's CommonJS runtime loads the package and its router answers", async () => {
    const dir = projects.jest;
    const { stderr } = await exec(
      join(dir, 'node_modules', '.bin', 'jest'),
      ['--ci', '--rootDir', dir, 'jest/'],
      {
        cwd: dir,
        env: consumerEnv(),
      },
    );
    assert.match(stderr, /Tests:\s+1 passed, 1 total/);
  });

  for (const [set, client, connectRedis, clientMajor] of [
    ['nodeRedis', 'node-redis', '9', '5'],
    ['nodeRedis4', 'node-redis', '8', '4'],
    ['ioredis5', 'ioredis', '8', '5'],
  ] as const) {
    test(`${client} ${clientMajor} + connect-redis ${connectRedis}: one client for sessions and RedisStore; sign in, enrol, verify, no replay`, async () => {
      const redis = await startRedis();
      try {
        const out = await runJson(projects[set], 'redis-app.mjs', {
          REDIS_CLIENT: client,
          REDIS_URL: redis.url,
        });
        assert.equal(out.clientVersion.split('.')[0], clientMajor);
        assert.equal(out.connectRedis.split('.')[0], connectRedis);
        assert.deepEqual(out.firstLogin, { status: 'signed_in' });
        assert.equal(out.setup, 200);
        assert.deepEqual(out.confirm, { status: 200, backupCodes: 10 });
        assert.equal(out.logout, 200);
        assert.equal(out.secondLogin.status, 'mfa_required');
        assert.ok(out.secondLogin.factors.includes('totp'), JSON.stringify(out.secondLogin));
        assert.deepEqual(out.pendingMe, { user: null });
        assert.deepEqual(out.verify, { status: 200, signedIn: true });
        assert.deepEqual(out.me, { user: { id: 'u1', email: 'ada@example.com' } });
        assert.deepEqual(out.replay, { status: 401, error: 'invalid_code' });
        assert.deepEqual(out.factors, ['totp', 'backup_codes']);
        assert.ok(out.mfaKeys > 0, 'MFA records are in Redis');
        assert.ok(out.sessionKeys > 0, 'sessions are in Redis');
        assert.deepEqual(out.lines, []);
      } finally {
        await redis.close();
      }
    });
  }

  test('ioredis 5: one copy installed, and RedisStore takes its client under strict TypeScript', async () => {
    const dir = projects.ioredis5;
    const { stdout } = await exec('npm', ['ls', 'ioredis', '--all', '--json'], {
      cwd: dir,
      env: consumerEnv(),
    });
    const versions = new Set<string>();
    const walk = (node: { version?: string; dependencies?: Record<string, unknown> }, name?: string) => {
      if (name === 'ioredis' && node.version) versions.add(node.version);
      for (const [child, sub] of Object.entries(node.dependencies ?? {})) walk(sub as typeof node, child);
    };
    walk(JSON.parse(stdout));
    assert.equal(versions.size, 1, `one ioredis, got ${[...versions].join(', ')}`);
    assert.match([...versions][0]!, /^5\./);
    // express-mfa has no ioredis of its own: it resolves the app's.
    assert.ok(!existsSync(join(dir, 'node_modules', 'express-mfa', 'node_modules', 'ioredis')));

    const ts = join(dir, 'ts-ioredis5');
    rmSync(ts, { recursive: true, force: true });
    mkdirSync(ts, { recursive: true });
    writeFileSync(join(ts, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      join(ts, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'es2022',
          noEmit: true,
          types: ['node'],
          module: 'nodenext',
        },
        include: ['*.ts'],
      }),
    );
    writeFileSync(
      join(ts, 'store.ts'),
      `import { RedisStore } from 'express-mfa';
import { Cluster, Redis } from 'ioredis';

export const store = new RedisStore({ client: new Redis('redis://localhost:6379', { enableOfflineQueue: false }) });
export const clustered = new RedisStore({ client: new Cluster([{ host: 'localhost', port: 7000 }]) });
`,
    );
    const result = await exec(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', ts], {
      cwd: ts,
      env: consumerEnv(),
    }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    assert.equal(result, '', 'tsc reports no errors');
  });

  const TS_VARIANTS = {
    'module nodenext (ESM project)': {
      set: 'typescript',
      type: 'module',
      compilerOptions: { module: 'nodenext' },
    },
    'module node16 (CommonJS project)': {
      set: 'typescript',
      type: 'commonjs',
      compilerOptions: { module: 'node16' },
    },
    'moduleResolution bundler': {
      set: 'typescript',
      type: 'module',
      compilerOptions: { module: 'esnext', moduleResolution: 'bundler', esModuleInterop: true },
    },
    'module nodenext with Express 4 types': {
      set: 'tsExpress4',
      type: 'module',
      compilerOptions: { module: 'nodenext' },
    },
  } as const;
  for (const [variant, { set, type, compilerOptions }] of Object.entries(TS_VARIANTS)) {
    test(`TypeScript strict, ${variant}: the README Quick start compiles unchanged`, async () => {
      const dir = join(projects[set], `ts-${type}-${compilerOptions.module}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type }));
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            target: 'es2022',
            noEmit: true,
            types: ['node'],
            ...compilerOptions,
          },
          include: ['*.ts'],
        }),
      );
      writeFileSync(join(dir, 'quick-start.ts'), quickStart());
      if (set === 'typescript') {
        writeFileSync(
          join(dir, 'passport-types.ts'),
          readFileSync(join(projects[set], 'typescript', 'passport-types.ts'), 'utf8'),
        );
      }
      const tsc = join(projects[set], 'node_modules', '.bin', 'tsc');
      const result = await exec(tsc, ['-p', dir], { cwd: dir, env: consumerEnv() }).then(
        () => '',
        (error: { stdout?: string }) => error.stdout ?? String(error),
      );
      assert.equal(result, '', 'tsc reports no errors');
    });
  }
});
