import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

const root = new URL('..', import.meta.url).pathname;
const HEAVY = ['@simplewebauthn/server', 'qrcode', 'libphonenumber-js', 'zod'];

/**
 * Runs `body` in a fresh Node process (sources through tsx) and lists which of the heavy optional
 * libraries got resolved, ESM and CommonJS alike: a resolve hook reports every module URL.
 */
function heavyLoadedBy(body: string): string[] {
  const hook = `let port;
    export function initialize(data) { port = data.port; }
    export async function resolve(specifier, context, next) {
      const result = await next(specifier, context);
      port.postMessage(result.url);
      return result;
    }`;
  const program = `
    import { register } from 'node:module';
    import { MessageChannel } from 'node:worker_threads';
    const { port1, port2 } = new MessageChannel();
    const urls = [];
    port1.on('message', (url) => urls.push(url));
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}), { data: { port: port2 }, transferList: [port2] });
    const lib = await import(${JSON.stringify(`file://${root}lib/index.ts`)});
    ${body}
    await new Promise((r) => setTimeout(r, 200));
    const { createRequire } = await import('node:module');
    urls.push(...Object.keys(createRequire(import.meta.url).cache));
    const heavy = ${JSON.stringify(HEAVY)}.filter((name) => urls.some((u) => u.includes('/node_modules/' + name + '/')));
    console.log(JSON.stringify(heavy));
    port1.close();`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

const base = `{ issuer: 'Acme', store: new lib.MemoryStore(), secret: 'x'.repeat(32), getUser: () => undefined }`;

test('importing the package and creating it with passkeys and SMS off loads none of SimpleWebAuthn, qrcode, libphonenumber, zod', () => {
  assert.deepEqual(heavyLoadedBy(`lib.createMfa(${base});`), []);
});

test('passkeys and SMS configured load their libraries when createMfa runs (so the check above can see them)', () => {
  const configured = `lib.createMfa({ ...${base},
    webauthn: { rpId: 'localhost', origin: 'http://localhost:3000' },
    sms: lib.outboxSms({ log: false }) });`;
  assert.deepEqual(heavyLoadedBy(configured), ['@simplewebauthn/server', 'libphonenumber-js']);
});

test('zod, which checks request bodies, loads with the first body a route parses', () => {
  const firstRequest = `const express = (await import('express')).default;
    const session = (await import('express-session')).default;
    const mfa = lib.createMfa(${base});
    const app = express();
    app.use(session({ secret: 's', resave: false, saveUninitialized: false }));
    app.use('/auth/mfa', mfa.router);
    const server = app.listen(0);
    await new Promise((r) => server.once('listening', r));
    const res = await fetch('http://127.0.0.1:' + server.address().port + '/auth/mfa/totp/verify', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":5}',
    });
    if (res.status !== 400) throw new Error('expected 400 for a code that is no string, got ' + res.status);
    server.close();`;
  assert.deepEqual(heavyLoadedBy(firstRequest), ['zod']);
});
