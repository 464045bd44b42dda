import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Deadlines } from '../../lib/stores/deadlines.js';

test('a call that is never settled expires once, after the timeout', async () => {
  const deadlines = new Deadlines(40);
  let expired = 0;
  const started = performance.now();
  let expiredAfter = 0;
  deadlines.start(() => {
    expired++;
    expiredAfter = performance.now() - started;
  });
  await sleep(20);
  assert.equal(expired, 0, 'not before the timeout');
  await sleep(80);
  assert.equal(expired, 1);
  assert.ok(expiredAfter >= 39, `expired after ${expiredAfter} ms`);
  assert.equal(deadlines.size, 0, 'nothing left queued');
});

test('settled calls never expire, and an open call behind them still does, on time', async () => {
  const deadlines = new Deadlines(40);
  const expired: string[] = [];
  const first = deadlines.start(() => expired.push('first'));
  await sleep(15);
  deadlines.start(() => expired.push('second'));
  const third = deadlines.start(() => expired.push('third'));
  deadlines.settle(first);
  deadlines.settle(third);
  await sleep(35); // past the first's deadline, before the second's
  assert.deepEqual(expired, []);
  await sleep(40);
  assert.deepEqual(expired, ['second']);
  assert.equal(deadlines.size, 0);
});

test('settling after expiry changes nothing', async () => {
  const deadlines = new Deadlines(10);
  let expired = 0;
  const late = deadlines.start(() => expired++);
  await sleep(40);
  deadlines.settle(late);
  await sleep(20);
  assert.equal(expired, 1);
});

test('the queue empties under steady calls: it holds at most a timeout of them', async () => {
  const deadlines = new Deadlines(30);
  let expired = 0;
  const until = performance.now() + 150;
  let started = 0;
  while (performance.now() < until) {
    const deadline = deadlines.start(() => expired++);
    started++;
    await sleep(1);
    // One call in a hundred is left to expire; the rest answer in time.
    if (started % 100 !== 0) deadlines.settle(deadline);
    assert.ok(deadlines.size <= 60, `${deadlines.size} queued`);
  }
  await sleep(80);
  assert.equal(expired, Math.floor(started / 100));
  assert.equal(deadlines.size, 0);
});
