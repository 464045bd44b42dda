import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

// A third party's store package, in .tmp/ (git-ignored) so the packed express-mfa finds its
// dependencies in our node_modules, as it would in theirs.
const root = new URL('../..', import.meta.url).pathname;
const work = join(root, '.tmp', 'third-party-store');
const installed = join(work, 'node_modules', 'express-mfa');

before(() => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(installed, { recursive: true });
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' }),
  );
  execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', installed, '--strip-components=1']);
});

/** Runs one test file with node's own test runner, as the third party's `npm test` would. */
function nodeTest(file: string, source: string) {
  writeFileSync(join(work, file), source);
  // Without the runner's NODE_TEST_CONTEXT, which would make the child report to this process.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const result = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], {
    cwd: work,
    encoding: 'utf8',
    env,
  });
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(result.stdout)?.[1]);
  return { status: result.status, pass: count('pass'), fail: count('fail'), out: result.stdout };
}

// A store of its own, built on the package's MemoryStore for brevity; `racyTake` turns its take
// into read-then-delete, the classic bug the suite must catch.
const storeSource = (racyTake: boolean) => `
import { MemoryStore } from 'express-mfa';
import { storeContract } from 'express-mfa/testing';

class ThirdPartyStore extends MemoryStore {
  ${racyTake ? 'async take(key) { const value = await this.get(key); await new Promise((r) => setImmediate(r)); await this.delete(key); return value; }' : ''}
}

storeContract('ThirdPartyStore', async () => {
  let clock = 1_000_000;
  const store = new ThirdPartyStore({ now: () => clock });
  return { store, advance: (ms) => { clock += ms; }, cleanup: async () => store.close() };
});
`;

test('a third-party store runs the exported contract suite with node --test, from the packed package', () => {
  const good = nodeTest('good-store.test.mjs', storeSource(false));
  assert.equal(good.status, 0, good.out);
  assert.equal(good.fail, 0);
  assert.ok(good.pass >= 35, `only ${good.pass} tests ran`);
});

test('the suite fails a store whose take is not atomic', () => {
  const racy = nodeTest('racy-store.test.mjs', storeSource(true));
  assert.notEqual(racy.status, 0);
  assert.ok(racy.fail >= 1, racy.out);
  assert.match(racy.out, /not ok \d+ - 50 takes of one key: exactly one gets the value/);
});

test('express-mfa/postgres loads in ESM and CommonJS', () => {
  const probe =
    'console.log(typeof PostgresStore, typeof migrate, new PostgresStore({ pool: { query() {}, connect() {} } }).constructor.name);';
  writeFileSync(
    join(work, 'pg.mjs'),
    `import { PostgresStore, migrate } from 'express-mfa/postgres';\n${probe}`,
  );
  writeFileSync(
    join(work, 'pg.cjs'),
    `const { PostgresStore, migrate } = require('express-mfa/postgres');\n${probe}`,
  );
  for (const file of ['pg.mjs', 'pg.cjs']) {
    const out = execFileSync(process.execPath, [file], { cwd: work, encoding: 'utf8' }).trim();
    assert.equal(out, 'function function PostgresStore', file);
  }
});

test('the testing and postgres subpaths ship with types; nothing in the build loads pg at runtime', () => {
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  // ESM and CommonJS builds, each with its own types.
  assert.equal(manifest.exports['./testing'].import.types, './dist/testing/index.d.ts');
  assert.equal(manifest.exports['./testing'].require.types, './dist/cjs/testing/index.d.ts');
  assert.equal(manifest.exports['./postgres'].import.types, './dist/stores/postgres-store.d.ts');
  assert.equal(manifest.exports['./postgres'].require.types, './dist/cjs/stores/postgres-store.d.ts');
  assert.equal(manifest.peerDependenciesMeta.pg.optional, true);
  const files = readdirSync(join(installed, 'dist'), { recursive: true, encoding: 'utf8' });
  const runtime = files.filter((f) => f.endsWith('.js'));
  const importsPg = runtime.filter((f) =>
    /\bfrom\s+['"]pg['"]|import\(\s*['"]pg['"]|require\(\s*['"]pg['"]/.test(
      readFileSync(join(installed, 'dist', f), 'utf8'),
    ),
  );
  assert.deepEqual(importsPg, []);
  assert.ok(runtime.includes(join('stores', 'postgres-store.js')));
  assert.ok(runtime.includes(join('cjs', 'stores', 'postgres-store.js')));
});
