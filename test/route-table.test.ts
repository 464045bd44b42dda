import assert from 'node:assert/strict';
import { test } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { asyncRouter } from '../lib/async-router.js';
import { routeTable } from '../lib/route-table.js';

test("routeTable puts a part's routes onto the router under its prefix, rejections caught", async () => {
  const router = asyncRouter();
  const table = routeTable(router);
  const part = table.at('/part');
  const boom = new Error('boom');
  part
    .get('/', (_req, res) => res.json({ at: 'root' }))
    .post('/verify', (_req, res) => res.json({ at: 'verify' }))
    .delete('/:id', async () => {
      throw boom;
    });
  table.answerOptions();
  const app = express();
  app.use('/mfa', router);
  app.use((_req: Request, res: Response) => res.status(404).json({ at: 'none' }));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) =>
    res.status(500).json({ caught: error === boom }),
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  const send = async (method: string, path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
    return [res.status, await res.json()];
  };
  try {
    // One router, no nested one: the part's routes are the router's own (and an OPTIONS route per path).
    assert.equal((router as unknown as { stack: unknown[] }).stack.length, 6);
    assert.deepEqual(await send('GET', '/mfa/part'), [200, { at: 'root' }]);
    assert.deepEqual(await send('GET', '/mfa/part/'), [200, { at: 'root' }]);
    assert.deepEqual(await send('POST', '/mfa/part/verify'), [200, { at: 'verify' }]);
    assert.deepEqual(await send('GET', '/mfa/part/verify'), [404, { at: 'none' }]);
    assert.deepEqual(await send('POST', '/mfa/verify'), [404, { at: 'none' }]);
    assert.deepEqual(await send('DELETE', '/mfa/part/7'), [500, { caught: true }]);
    // OPTIONS names a path's methods, as a nested router answered it, never the 404 after the routes.
    for (const [path, allow] of [
      ['/mfa/part', 'GET, HEAD'],
      ['/mfa/part/verify', 'POST'],
      ['/mfa/part/7', 'DELETE'],
    ] as const) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'OPTIONS' });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('allow'), allow, path);
      assert.equal(await res.text(), allow);
    }
    assert.equal((await fetch(`http://127.0.0.1:${port}/mfa/nowhere`, { method: 'OPTIONS' })).status, 404);
  } finally {
    server.close();
  }
});
