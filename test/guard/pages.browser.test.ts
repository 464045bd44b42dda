import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { MINUTE } from '../../lib/index.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { totpCode } from '../helpers/test-app.js';
import { type GuardTestApp, makeGuardApp } from './guard-test-app.js';

// What real Chromium sends decides the redirect: a navigation (Accept: text/html, Sec-Fetch-Mode:
// navigate) is sent to the verify page; the page's own fetch() calls keep getting JSON.

/** The verify page of the README: posts the code with returnTo, then goes where the answer says. */
const verifyPage = (returnTo: string) => `<!doctype html>
<form id="verify"><input id="code" name="code" required><button id="submit">Verify</button></form>
<script>
  document.getElementById('verify').addEventListener('submit', async (event) => {
    event.preventDefault();
    const res = await fetch('/auth/mfa/totp/verify', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code: event.target.code.value, returnTo: ${JSON.stringify(returnTo)} }),
    });
    const body = await res.json();
    if (res.ok) location.assign(body.returnTo);
    else document.body.append(body.message);
  });
</script>`;

describe('browser pages in Chromium', () => {
  let redis: TestRedis;
  let browser: Browser;
  let server: Server;
  let t: GuardTestApp;
  let base = '';

  before(async () => {
    redis = await startRedis();
    t = await makeGuardApp(
      redis.client(),
      (mfa, app) => {
        app.get('/account', mfa.requireMfa(5 * MINUTE), (_req, res) => {
          res.type('html').send('<h1 id="title">Account</h1>');
        });
        app.get('/api/balance', mfa.requireMfa(5 * MINUTE), (_req, res) => {
          res.json({ balance: 1 });
        });
        app.get('/verify', (req, res) => {
          res.type('html').send(verifyPage(mfa.returnTo(req)));
        });
      },
      { pages: { verify: '/verify' } },
    );
    server = createServer(t.app);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
  });

  after(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await redis?.close();
  });

  test('a navigation goes to the verify page and, once verified, back; fetch() gets JSON', async () => {
    const context = await browser.newContext();
    try {
      // Sign in and set up TOTP through the API, then sign in again: a session not yet verified.
      const api = context.request;
      await api.post(`${base}/test/login`, { data: { id: 'ada', email: 'ada@example.com' } });
      const setup = await (await api.post(`${base}/auth/mfa/totp/setup`, { data: {} })).json();
      const confirm = await api.post(`${base}/auth/mfa/totp/confirm`, {
        data: { code: totpCode(setup.secret, t.clock) },
      });
      assert.equal(confirm.status(), 200);
      await api.post(`${base}/test/login`, { data: { id: 'ada', email: 'ada@example.com' } });

      const page = await context.newPage();
      await page.goto(`${base}/account?tab=passkeys`);
      assert.equal(page.url(), `${base}/verify?returnTo=%2Faccount%3Ftab%3Dpasskeys`);

      const fetched = await page.evaluate(async () => {
        const plain = await fetch('/api/balance');
        const asksHtml = await fetch('/account', { headers: { Accept: 'text/html' } });
        return [plain.status, (await plain.json()).error, asksHtml.status, asksHtml.redirected];
      });
      assert.deepEqual(fetched, [401, 'mfa_required', 401, false]);

      t.clock.advance(60_000);
      await page.locator('#code').fill(totpCode(setup.secret, t.clock));
      await page.locator('#submit').click();
      await page.waitForURL(`${base}/account?tab=passkeys`);
      assert.equal(await page.locator('#title').textContent(), 'Account');
    } finally {
      await context.close();
    }
  });
});
