import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

// The consumer lives inside the repo (.tmp/ is git-ignored) so the packed package finds its
// dependencies in our node_modules, as it would in an app's, without a network install.
const root = new URL('../..', import.meta.url).pathname;
const work = join(root, '.tmp', 'consumer');
const installed = join(work, 'node_modules', 'express-mfa');

before(() => {
  // `npm pack` runs the prepack build first, so this always tests the current sources.
  rmSync(work, { recursive: true, force: true });
  mkdirSync(installed, { recursive: true });
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' }),
  );
  execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', installed, '--strip-components=1']);
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
