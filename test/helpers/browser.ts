import { once } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { createExampleApp, type ExampleAppOptions } from '../../example-app/app.js';
import { deliveryFromEnv } from '../../example-app/delivery.js';
import { startRedis, type TestRedis } from './redis-server.js';

/** The example app served on a free port. */
export interface ExampleServer {
  /** http://localhost:<port>: passkeys need the RP id 'localhost'. */
  base: string;
  close(): Promise<void>;
}

/**
 * The example app on a free port of 127.0.0.1, reached as http://localhost:<port> and told that
 * origin, or the one `origin(port)` gives (to test a misconfigured site).
 */
export async function serveExampleApp(
  opts: Omit<ExampleAppOptions, 'origin'> & { origin?: (port: number) => string } = {},
): Promise<ExampleServer> {
  const { origin, ...appOptions } = opts;
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const base = `http://localhost:${port}`;
  let example: Awaited<ReturnType<typeof createExampleApp>>;
  try {
    example = await createExampleApp({ ...appOptions, origin: origin?.(port) ?? base });
  } catch (err) {
    server.close();
    throw err;
  }
  server.on('request', example.app);
  return {
    base,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await example.close();
    },
  };
}

export interface ExampleSiteOptions {
  /** Email and SMS codes go to the dev outbox (no provider keys), readable at /dev/outbox. */
  outbox?: boolean;
  /** The app's clock (tests that skip ahead). */
  now?: () => number;
}

/** The example app with a throwaway Redis, and headless Chromium to drive it. */
export interface ExampleSite {
  base: string;
  browser: Browser;
  /** The throwaway Redis behind sessions and MFA records (stop it to test an outage). */
  redis: TestRedis;
  /** What the app logged (startup notes, MFA events). */
  logs: string[];
  /** Script and console errors of the pages `newPage` opened without errors of their own. */
  pageErrors: string[];
  /**
   * A tab with a 10 s default timeout whose script errors are collected (into `errors`, else
   * `pageErrors`); in a new browser context unless `context` is given.
   */
  newPage(opts?: { context?: BrowserContext; errors?: string[] }): Promise<Page>;
  /**
   * Runs `fn` and, when it fails, saves a full-page screenshot of every open tab under
   * .tmp/screenshots/ (git-ignored) before the failure is reported.
   */
  step<T>(t: TestContext, fn: () => Promise<T>): Promise<T>;
  /**
   * The 6-digit code in the newest `channel` message of the dev outbox (`outbox: true`), read in a
   * tab of `page`'s context; `page` is brought back to the front afterwards (a background tab gets
   * few animation frames, and every click waits for them).
   */
  codeFromOutbox(page: Page, channel: 'email' | 'sms'): Promise<string>;
  /** Closes the browser, the app and Redis. */
  close(): Promise<void>;
}

const SCREENSHOT_DIR = new URL('../../.tmp/screenshots/', import.meta.url).pathname;

/** Full-page screenshots of every tab of `browser`, named after the test. */
export async function screenshotAll(browser: Browser, name: string): Promise<string[]> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80);
  const pages = browser.contexts().flatMap((c) => c.pages());
  const saved: string[] = [];
  for (const [i, page] of pages.entries()) {
    const path = `${SCREENSHOT_DIR}${slug}-${i}.png`;
    try {
      await page.screenshot({ path, fullPage: true, timeout: 5000 });
      saved.push(path);
    } catch {
      // A closed or crashed tab: nothing to keep.
    }
  }
  return saved;
}

let axeSource: Promise<string> | undefined;

/** A violation axe-core found, in words that point at the element. */
export interface A11yViolation {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core (injected through the DevTools protocol, so the page's CSP does not block it) on the
 * page as it is now; answers the serious and critical violations.
 */
export async function seriousA11yViolations(page: Page): Promise<A11yViolation[]> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const source = await axeSource;
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: Document, opts: object): Promise<AxeResults> } })
      .axe;
    type AxeResults = {
      violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
    };
    const results = await axe.run(document, { resultTypes: ['violations'] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** How far the page scrolls sideways (0 when everything fits the viewport's width). */
export const sideScroll = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Starts Redis, the example app on a free port, and the system's Chromium (never a downloaded one). */
export async function startExampleSite(opts: ExampleSiteOptions = {}): Promise<ExampleSite> {
  const logs: string[] = [];
  const pageErrors: string[] = [];
  const log = (line: string) => logs.push(line);
  let redis: TestRedis | undefined;
  let server: ExampleServer | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server?.close();
    await redis?.close();
  };
  try {
    redis = await startRedis();
    server = await serveExampleApp({
      redisUrl: redis.url,
      log,
      ...(opts.outbox ? { delivery: await deliveryFromEnv({}, log) } : {}),
      ...(opts.now ? { now: opts.now } : {}),
    });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
    });
  } catch (err) {
    await close();
    throw err;
  }
  const launched = browser;
  const site: ExampleSite = {
    base: server.base,
    browser: launched,
    redis,
    logs,
    pageErrors,
    async newPage({ context, errors = pageErrors } = {}) {
      const page = await (context ?? (await launched.newContext())).newPage();
      page.setDefaultTimeout(10_000);
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error' && !msg.text().includes('Failed to load resource'))
          errors.push(msg.text());
      });
      return page;
    },
    async codeFromOutbox(page, channel) {
      const outbox = await site.newPage({ context: page.context() });
      await outbox.goto(`${server.base}/dev/outbox`);
      const body =
        (await outbox
          .locator(`.outbox-message[data-channel="${channel}"] .outbox-text`)
          .first()
          .textContent()) ?? '';
      await outbox.close();
      await page.bringToFront();
      const code = /\b(\d{6})\b/.exec(body)?.[1];
      if (!code) throw new Error(`no code in the newest ${channel} message: ${body}`);
      return code;
    },
    async step(t, fn) {
      try {
        return await fn();
      } catch (err) {
        const saved = await screenshotAll(launched, t.fullName ?? t.name);
        if (saved.length > 0) t.diagnostic(`screenshots: ${saved.join(', ')}`);
        throw err;
      }
    },
    close,
  };
  return site;
}
