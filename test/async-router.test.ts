import assert from 'node:assert/strict';
import { test } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { answerOptions, asyncRouter, routesAt } from '../lib/async-router.js';

/** The handler express would call for the router's first route (the wrapped one). */
function firstHandler(router: ReturnType<typeof asyncRouter>) {
  const stack = (router as unknown as { stack: { route: { stack: { handle: unknown }[] } }[] }).stack;
  return stack[0]!.route.stack[0]!.handle as (req: Request, res: Response, next: NextFunction) => unknown;
}

const call = (handle: ReturnType<typeof firstHandler>) =>
  new Promise<unknown>((resolve) => {
    // Express 4 ignores what a handler returns: only a call of `next` gets an error anywhere.
    const returned = handle({} as Request, {} as Response, resolve as NextFunction);
    assert.equal(returned, undefined, 'the wrapper returns nothing for Express 5 to await twice');
  });

test('a rejected async handler reaches next(error), as Express 4 never would by itself', async () => {
  const router = asyncRouter();
  const boom = new Error('boom');
  router.post('/x', async () => {
    throw boom;
  });
  assert.equal(await call(firstHandler(router)), boom);
});

test('a synchronous throw reaches next(error) too', async () => {
  const router = asyncRouter();
  const boom = new Error('sync');
  router.get('/x', () => {
    throw boom;
  });
  assert.equal(await call(firstHandler(router)), boom);
});

test('a promise rejected with nothing still reaches next with an error', async () => {
  const router = asyncRouter();
  router.delete('/x', () => Promise.reject(undefined));
  assert.ok((await call(firstHandler(router))) instanceof Error);
});

test('a handler that succeeds does not call next', async () => {
  const router = asyncRouter();
  let nextCalled = false;
  router.patch('/x', async (_req, res) => {
    (res as unknown as { done: boolean }).done = true;
  });
  const res = {} as Response & { done?: boolean };
  firstHandler(router)({} as Request, res, () => {
    nextCalled = true;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(res.done, true);
  assert.equal(nextCalled, false);
});

test("routesAt adds a part's routes onto the router under its prefix, rejections caught", async () => {
  const router = asyncRouter();
  const part = routesAt(router, '/part');
  const boom = new Error('boom');
  part
    .get('/', (_req, res) => res.json({ at: 'root' }))
    .post('/verify', (_req, res) => res.json({ at: 'verify' }))
    .delete('/:id', async () => {
      throw boom;
    });
  answerOptions(router);
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
