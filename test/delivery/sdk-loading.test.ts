import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;

/** Imports `modules` in a fresh Node process and lists which provider SDKs got loaded. */
function sdksLoadedBy(...modules: string[]): string[] {
  const program = `
    import { createRequire } from 'node:module';
    ${modules.map((m, i) => `await import(${JSON.stringify(new URL(m, `file://${root}`).href)}); void ${i};`).join('\n')}
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    const sdks = ['@sendgrid/mail', '@sendgrid/client', 'twilio'].filter((sdk) =>
      loaded.some((file) => file.includes(\`/node_modules/\${sdk}/\`)));
    console.log(JSON.stringify(sdks));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

test('importing the core loads neither provider SDK', () => {
  assert.deepEqual(sdksLoadedBy('lib/index.ts'), []);
});

test('the adapters load their SDK (so the check above can see one)', () => {
  assert.deepEqual(sdksLoadedBy('lib/delivery/sendgrid.ts'), ['@sendgrid/mail', '@sendgrid/client']);
  assert.deepEqual(sdksLoadedBy('lib/delivery/twilio.ts'), ['twilio']);
});
