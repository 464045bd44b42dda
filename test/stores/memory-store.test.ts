import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { storeContract } from 'express-mfa/testing';
import { MemoryStore } from '../../lib/stores/memory-store.js';

/** A MemoryStore on a hand-driven clock. */
function memoryStore() {
  let clock = 1_000_000;
  const store = new MemoryStore({ now: () => clock });
  return {
    store,
    advance(ms: number) {
      clock += ms;
    },
    /** The raw entry count, expired ones included: what actually occupies memory. */
    stored: () => (store as unknown as { entries: Map<string, unknown> }).entries.size,
  };
}

storeContract('MemoryStore', async () => {
  const { store, advance } = memoryStore();
  return { store, advance, cleanup: async () => store.close() };
});

describe('MemoryStore', () => {
  test('keys expire on its clock', async () => {
    const { store, advance } = memoryStore();
    await store.set('k', 'v', 1000);
    advance(999);
    assert.equal(await store.get('k'), 'v');
    assert.equal(await store.ttl('k'), 1);
    advance(1);
    assert.equal(await store.get('k'), null);
    assert.equal(await store.ttl('k'), null);
    assert.equal(await store.take('k'), null);
    store.close();
  });

  test('an expired key is purged when read, not just hidden', async () => {
    const { store, advance, stored } = memoryStore();
    await store.set('short', 'v', 10);
    await store.set('long', 'v');
    advance(10);
    assert.equal(stored(), 2);
    await store.get('short');
    assert.equal(stored(), 1);
    store.close();
  });

  test('size() counts live keys only', async () => {
    const { store, advance, stored } = memoryStore();
    await store.set('a', 'v', 10);
    await store.set('b', 'v');
    await store.replaceSet('c', ['x']);
    assert.equal(store.size(), 3);
    advance(10);
    assert.equal(store.size(), 2);
    assert.equal(stored(), 2);
    store.close();
  });

  test('a stream of short-lived keys never piles up (write-triggered sweep)', async () => {
    const { store, advance, stored } = memoryStore();
    let peak = 0;
    for (let i = 0; i < 100_000; i++) {
      await store.set(`k${i}`, 'v', 10);
      advance(1);
      peak = Math.max(peak, stored());
    }
    // At most 10 keys are live at once; the rest may only linger until the next sweep.
    assert.ok(peak <= 10 + 1024, `peak ${peak}`);
    store.close();
  });

  test('failure counters are garbage once their lock ends', async () => {
    const { store, advance, stored } = memoryStore();
    const input = { failKey: 'f', limit: 1, windowMs: 100, lockMs: 500, now: 1_000_000 };
    await store.attempt({ ...input, action: { kind: 'check', ok: false } });
    advance(500);
    assert.equal(store.size(), 0);
    assert.equal(stored(), 0);
    store.close();
  });

  test('close() stops the timer and the store keeps working', async () => {
    const { store } = memoryStore();
    store.close();
    store.close();
    await store.set('k', 'v');
    assert.equal(await store.get('k'), 'v');
  });

  test('the sweep timer does not keep the process alive', () => {
    const store = new MemoryStore();
    const timer = (store as unknown as { timer: NodeJS.Timeout }).timer;
    assert.equal(timer.hasRef(), false);
    store.close();
  });

  test('options are checked', () => {
    assert.throws(() => new MemoryStore({ now: 5 as unknown as () => number }), /`now` must be a function/);
    assert.throws(() => new MemoryStore({ clock: Date.now } as never), /unknown option `clock`/);
  });
});
