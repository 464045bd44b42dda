import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { consumerEnv, consumerProject, exec, root } from './consumer-projects.js';

// The router, the guard and the factors' route suites, run again with Express 4 in place of 5
// (every `import 'express'` of the sources and the test helpers resolves to it).
const SUITES = [
  'test/http.test.ts',
  'test/status.test.ts',
  'test/require-mfa.test.ts',
  'test/session.test.ts',
  'test/route-table.test.ts',
  'test/router-diagnostics.test.ts',
  'test/session-middleware.test.ts',
  'test/user-id.test.ts',
  'test/factors/totp/routes.test.ts',
  'test/factors/backup-codes/routes.test.ts',
  'test/factors/webauthn/credentials.test.ts',
  'test/factors/webauthn/verification.test.ts',
  'test/factors/email-sms/sms-routes.test.ts',
  'test/factors/recovery/recovery-complete.test.ts',
];

test('the route suites pass on Express 4 too', async () => {
  const dir = await consumerProject('express4-only', { express: '^4.21.2' }, undefined);
  const main = pathToFileURL(join(dir, 'node_modules', 'express', 'index.js')).href;
  const override = join(root, 'test', 'package', 'express-override.mjs');
  // The override is in force: from our sources, 'express' is Express 4.
  const probe = await exec(
    process.execPath,
    ['--import', override, '--input-type=module', '-e', "console.log(import.meta.resolve('express'))"],
    { cwd: root, env: consumerEnv({ EXPRESS_MAIN: main }) },
  );
  assert.equal(probe.stdout.trim(), main);
  const manifest = JSON.parse(readFileSync(join(dir, 'node_modules', 'express', 'package.json'), 'utf8'));
  assert.match(manifest.version, /^4\./);
  const run = await exec(
    process.execPath,
    // A handler whose error Express 4 dropped would leave its request hanging: time out, never hang.
    [
      '--import',
      override,
      '--import',
      'tsx',
      '--test',
      '--test-timeout=60000',
      '--test-reporter=dot',
      ...SUITES,
    ],
    { cwd: root, env: consumerEnv({ EXPRESS_MAIN: main }), maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
  ).catch((error: { stdout?: string; stderr?: string }) => {
    assert.fail(`Express 4 run failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  });
  assert.doesNotMatch(run.stdout, /\bX\b/, 'no failing test');
});
