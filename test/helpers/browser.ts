import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  /** What the app logged (startup notes, MFA events). */
  logs: string[];
  /** Script and console errors of the pages `newPage` opened without errors of their own. */
  pageErrors: string[];
  /**
   * A tab with a 10 s default timeout whose script errors are collected (into `errors`, else
   * `pageErrors`); in a new browser context unless `context` is given.
   */
  newPage(opts?: { context?: BrowserContext; errors?: string[] }): Promise<Page>;
  /** Closes the browser, the app and Redis. */
  close(): Promise<void>;
}

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
  return {
    base: server.base,
    browser: launched,
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
    close,
  };
}
