import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NextFunction, Request, Response } from 'express';
import { asyncRouter } from '../lib/async-router.js';

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
