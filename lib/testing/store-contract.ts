import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { AttemptAction, AttemptInput, Store } from '../stores/store.js';

/** What a store's test file hands the contract: a fresh store, its clock, and how to tidy up. */
export interface StoreHarness {
  /** A store with no keys the suite could collide with (a fresh instance, prefix or table). */
  store: Store;
  /** Moves the store's own clock (TTL garbage collection) forward; a no-op for stores on real time. */
  advance(ms: number): void;
  /** Runs after each test, pass or fail (close connections, drop the table...). */
  cleanup(): Promise<void>;
}

const MINUTE = 60_000;
/** A 13-digit ms timestamp, so number formatting (e.g. in Lua) is exercised on every attempt. */
const T0 = 1_700_000_000_123;
const LIMITS: { limit: number; windowMs: number; lockMs: number } = {
  limit: 3,
  windowMs: 15 * MINUTE,
  lockMs: 30 * MINUTE,
};

/** Keys of one fresh user: same hash tag, as keys.ts builds them, so Cluster-safe scripts apply. */
function userKeys() {
  const tag = `{u:${randomUUID()}}`;
  return (name: string) => `${tag}:${name}`;
}

/**
 * The one test suite every `Store` passes (MemoryStore, RedisStore, PostgresStore, and yours):
 * strings and sets, TTLs, attempt counting and locking, every attempt action, and each single-use
 * operation under parallel load (50 concurrent calls, exactly one winner). Call it at the top level
 * of a test file run by node's test runner; `make` is called once per test.
 *
 * Time-based decisions are driven by the `now` argument (with `advance` kept in step, so a store's
 * garbage collection can never disagree with them); TTLs are checked through `ttl()`, which works
 * for stores on real time too. Keys are hash-tagged per user, as the package builds them.
 *
 * @example
 * import { storeContract } from 'express-mfa/testing';
 * storeContract('DynamoStore', async () => ({
 *   store: new DynamoStore({ table: `mfa-test-${randomUUID()}` }),
 *   advance() {}, // expires on the database's clock
 *   cleanup: async () => {},
 * }));
 */
export function storeContract(name: string, make: () => Promise<StoreHarness>): void {
  /** A test with its own store and clock. */
  const it = (title: string, body: (h: StoreHarness, key: (name: string) => string) => Promise<void>) =>
    test(title, async () => {
      const harness = await make();
      try {
        await body(harness, userKeys());
      } finally {
        await harness.cleanup();
      }
    });

  /** An app clock starting at T0 that moves the store's clock along with it. */
  const clockOf = (h: StoreHarness) => {
    let now = T0;
    return {
      get now() {
        return now;
      },
      later(ms: number) {
        now += ms;
        h.advance(ms);
      },
    };
  };

  const attempt = (store: Store, failKey: string, now: number, action: AttemptAction, limits = LIMITS) =>
    store.attempt({ failKey, now, action, ...limits });
  const wrong: AttemptAction = { kind: 'check', ok: false };
  const right: AttemptAction = { kind: 'check', ok: true };

  /** Fails `limit` times at `now`, leaving `failKey` locked until now + lockMs. */
  const lock = async (store: Store, failKey: string, now: number) => {
    for (let i = 0; i < LIMITS.limit; i++) await attempt(store, failKey, now, wrong);
  };

  describe(`${name} satisfies the Store contract`, () => {
    describe('get / set / ttl', () => {
      it('a missing key reads as null, with ttl null', async ({ store }, key) => {
        assert.equal(await store.get(key('none')), null);
        assert.equal(await store.ttl(key('none')), null);
      });

      it('set then get returns the value; set again overwrites', async ({ store }, key) => {
        await store.set(key('a'), 'one');
        assert.equal(await store.get(key('a')), 'one');
        await store.set(key('a'), 'två ✓');
        assert.equal(await store.get(key('a')), 'två ✓');
        await store.set(key('empty'), '');
        assert.equal(await store.get(key('empty')), '');
      });

      it('without ttlMs the key has no TTL (Infinity)', async ({ store }, key) => {
        await store.set(key('a'), 'v');
        assert.equal(await store.ttl(key('a')), Infinity);
      });

      it('with ttlMs the TTL is positive and at most ttlMs', async ({ store }, key) => {
        await store.set(key('a'), 'v', 5 * MINUTE);
        const ttl = await store.ttl(key('a'));
        assert.ok(ttl !== null && ttl > 0 && ttl <= 5 * MINUTE, `ttl ${ttl}`);
      });

      it('set without ttlMs replaces an earlier TTL', async ({ store }, key) => {
        await store.set(key('a'), 'v', MINUTE);
        await store.set(key('a'), 'w');
        assert.equal(await store.ttl(key('a')), Infinity);
      });

      it('rejects a ttlMs that is not a positive number', async ({ store }, key) => {
        for (const ttl of [0, -1, Number.NaN, Infinity]) {
          await assert.rejects(store.set(key('a'), 'v', ttl), RangeError);
        }
        assert.equal(await store.get(key('a')), null);
      });
    });

    describe('delete / take', () => {
      it('delete removes strings and sets; missing keys and no keys are fine', async ({ store }, key) => {
        await store.set(key('s'), 'v');
        await store.replaceSet(key('set'), ['m']);
        await store.delete(key('s'), key('set'), key('missing'));
        await store.delete();
        assert.equal(await store.get(key('s')), null);
        assert.equal(await store.countSet(key('set')), 0);
      });

      it('take returns the value once and deletes it', async ({ store }, key) => {
        await store.set(key('t'), 'code', MINUTE);
        assert.equal(await store.take(key('t')), 'code');
        assert.equal(await store.take(key('t')), null);
        assert.equal(await store.get(key('t')), null);
        assert.equal(await store.take(key('never')), null);
      });
    });

    describe('replaceSet / countSet', () => {
      it('a missing set counts 0', async ({ store }, key) => {
        assert.equal(await store.countSet(key('none')), 0);
      });

      it('replaces (not merges), counts distinct members, and has no TTL', async ({ store }, key) => {
        await store.replaceSet(key('set'), ['a', 'b', 'c', 'c']);
        assert.equal(await store.countSet(key('set')), 3);
        await store.replaceSet(key('set'), ['d']);
        assert.equal(await store.countSet(key('set')), 1);
        assert.equal(await store.ttl(key('set')), Infinity);
        const old = await attempt(store, key('fail'), T0, {
          kind: 'remove-member',
          key: key('set'),
          members: ['a'],
        });
        assert.equal(old.status, 'invalid');
      });

      it('an empty list deletes the set', async ({ store }, key) => {
        await store.replaceSet(key('set'), ['a']);
        await store.replaceSet(key('set'), []);
        assert.equal(await store.countSet(key('set')), 0);
        assert.equal(await store.ttl(key('set')), null);
      });

      it('handles thousands of members', async ({ store }, key) => {
        const members = Array.from({ length: 5000 }, (_, i) => `m${i}`);
        await store.replaceSet(key('big'), members);
        assert.equal(await store.countSet(key('big')), 5000);
      });

      it('reading a key as the wrong type rejects', async ({ store }, key) => {
        await store.set(key('s'), 'v');
        await store.replaceSet(key('set'), ['m']);
        await assert.rejects(store.countSet(key('s')));
        await assert.rejects(store.get(key('set')));
      });
    });

    describe('addToSet / members', () => {
      it('adds one member at a time, says whether it was new, and lists them', async ({ store }, key) => {
        assert.deepEqual(await store.members(key('set')), []);
        assert.equal(await store.addToSet(key('set'), 'a'), true);
        assert.equal(await store.addToSet(key('set'), 'b'), true);
        assert.equal(await store.addToSet(key('set'), 'a'), false);
        assert.deepEqual((await store.members(key('set'))).sort(), ['a', 'b']);
        assert.equal(await store.countSet(key('set')), 2);
        assert.equal(await store.ttl(key('set')), Infinity);
      });

      it('works with replaceSet and remove-member on the same set', async ({ store }, key) => {
        await store.replaceSet(key('set'), ['a']);
        await store.addToSet(key('set'), 'b');
        const removed = await attempt(store, key('f'), T0, {
          kind: 'remove-member',
          key: key('set'),
          members: ['a', 'b'],
        });
        assert.equal(removed.status, 'ok');
        assert.equal((await store.members(key('set'))).length, 1);
      });

      it('on a string key it rejects', async ({ store }, key) => {
        await store.set(key('s'), 'v');
        await assert.rejects(store.addToSet(key('s'), 'm'));
        await assert.rejects(store.members(key('s')));
        assert.equal(await store.get(key('s')), 'v');
      });
    });

    describe('attempt: counting, locking, windows', () => {
      it('counts failures, locks at the limit, and refuses even a right answer while locked', async ({
        store,
      }, key) => {
        const fail = key('fail');
        assert.deepEqual(await attempt(store, fail, T0, wrong), { status: 'invalid', failures: 1 });
        assert.deepEqual(await attempt(store, fail, T0, wrong), { status: 'invalid', failures: 2 });
        assert.deepEqual(await store.failures(fail, T0), { failures: 2, lockedUntil: null });
        assert.deepEqual(await attempt(store, fail, T0, wrong), { status: 'invalid', failures: 3 });
        assert.deepEqual(await store.failures(fail, T0), { failures: 3, lockedUntil: T0 + LIMITS.lockMs });
        assert.deepEqual(await attempt(store, fail, T0, right), {
          status: 'locked',
          retryAfterMs: LIMITS.lockMs,
        });
        assert.deepEqual(await store.failures(fail, T0), { failures: 3, lockedUntil: T0 + LIMITS.lockMs });
      });

      it('the lock lasts lockMs from the failure that reached the limit, on the caller clock', async (h, key) => {
        const clock = clockOf(h);
        const fail = key('fail');
        await attempt(h.store, fail, clock.now, wrong);
        clock.later(5 * MINUTE);
        await attempt(h.store, fail, clock.now, wrong);
        clock.later(5 * MINUTE);
        await attempt(h.store, fail, clock.now, wrong);
        const lockedUntil = clock.now + LIMITS.lockMs;
        assert.deepEqual(await h.store.failures(fail, clock.now), { failures: 3, lockedUntil });
        clock.later(LIMITS.lockMs - 1);
        assert.deepEqual(await attempt(h.store, fail, clock.now, right), {
          status: 'locked',
          retryAfterMs: 1,
        });
        clock.later(1);
        assert.deepEqual(await h.store.failures(fail, clock.now), { failures: 0, lockedUntil: null });
        assert.deepEqual(await attempt(h.store, fail, clock.now, right), { status: 'ok' });
      });

      it('failures count within windowMs of the first failure, then start over', async (h, key) => {
        const clock = clockOf(h);
        const fail = key('fail');
        await attempt(h.store, fail, clock.now, wrong);
        clock.later(10 * MINUTE);
        assert.deepEqual(await attempt(h.store, fail, clock.now, wrong), { status: 'invalid', failures: 2 });
        clock.later(5 * MINUTE);
        assert.deepEqual(await h.store.failures(fail, clock.now), { failures: 0, lockedUntil: null });
        assert.deepEqual(await attempt(h.store, fail, clock.now, wrong), { status: 'invalid', failures: 1 });
      });

      it('success resets the counter', async ({ store }, key) => {
        const fail = key('fail');
        await attempt(store, fail, T0, wrong);
        await attempt(store, fail, T0, wrong);
        assert.deepEqual(await attempt(store, fail, T0, right), { status: 'ok' });
        assert.deepEqual(await store.failures(fail, T0), { failures: 0, lockedUntil: null });
        assert.equal(await store.ttl(fail), null);
        assert.deepEqual(await attempt(store, fail, T0, wrong), { status: 'invalid', failures: 1 });
      });

      it('limit 1 locks on the first failure', async ({ store }, key) => {
        const limits = { ...LIMITS, limit: 1 };
        assert.deepEqual(await attempt(store, key('f'), T0, wrong, limits), {
          status: 'invalid',
          failures: 1,
        });
        assert.equal((await attempt(store, key('f'), T0, right, limits)).status, 'locked');
      });

      it('failures() of an unknown key is zero and reading changes nothing', async ({ store }, key) => {
        assert.deepEqual(await store.failures(key('none'), T0), { failures: 0, lockedUntil: null });
        await attempt(store, key('f'), T0, wrong);
        await store.failures(key('f'), T0);
        assert.deepEqual(await store.failures(key('f'), T0), { failures: 1, lockedUntil: null });
      });

      it('the counter key has a TTL covering the window, then the lock', async ({ store }, key) => {
        await attempt(store, key('f'), T0, wrong);
        const windowTtl = await store.ttl(key('f'));
        assert.ok(windowTtl !== null && windowTtl > 0 && windowTtl <= LIMITS.windowMs, `ttl ${windowTtl}`);
        await lock(store, key('f'), T0);
        const lockTtl = await store.ttl(key('f'));
        assert.ok(
          lockTtl !== null && lockTtl > LIMITS.windowMs && lockTtl <= LIMITS.lockMs,
          `ttl ${lockTtl}`,
        );
      });

      it('rejects nonsense limits and times instead of locking forever or never', async ({ store }, key) => {
        const base: AttemptInput = { failKey: key('f'), now: T0, action: wrong, ...LIMITS };
        for (const bad of [{ limit: 0 }, { limit: 1.5 }, { now: Number.NaN }, { windowMs: Number.NaN }]) {
          await assert.rejects(store.attempt({ ...base, ...bad }), RangeError);
        }
      });
    });

    describe('attempt actions', () => {
      it('advance: passes only above the stored number, stores it with ttlMs', async ({ store }, key) => {
        const step = (value: number) =>
          ({ kind: 'advance', key: key('last'), value, ttlMs: 2 * MINUTE }) as const;
        assert.deepEqual(await attempt(store, key('f'), T0, step(56_666_667)), { status: 'ok' });
        assert.equal(await store.get(key('last')), '56666667');
        const ttl = await store.ttl(key('last'));
        assert.ok(ttl !== null && ttl > 0 && ttl <= 2 * MINUTE, `ttl ${ttl}`);
        assert.deepEqual(await attempt(store, key('f'), T0, step(56_666_667)), {
          status: 'invalid',
          failures: 1,
        });
        assert.deepEqual(await attempt(store, key('f'), T0, step(56_666_666)), {
          status: 'invalid',
          failures: 2,
        });
        assert.equal(await store.get(key('last')), '56666667');
        assert.deepEqual(await attempt(store, key('f'), T0, step(56_666_668)), { status: 'ok' });
        assert.equal(await store.get(key('last')), '56666668');
        assert.deepEqual(await store.failures(key('f'), T0), { failures: 0, lockedUntil: null });
      });

      it('advance: keeps 13-digit numbers exact', async ({ store }, key) => {
        const step = (value: number) =>
          ({ kind: 'advance', key: key('last'), value, ttlMs: MINUTE }) as const;
        assert.equal((await attempt(store, key('f'), T0, step(T0))).status, 'ok');
        assert.equal(await store.get(key('last')), String(T0));
        assert.equal((await attempt(store, key('f'), T0, step(T0))).status, 'invalid');
        assert.equal((await attempt(store, key('f'), T0, step(T0 + 1))).status, 'ok');
      });

      it('advance: a stored value that is not a number fails closed', async ({ store }, key) => {
        await store.set(key('last'), 'garbage');
        const result = await attempt(store, key('f'), T0, {
          kind: 'advance',
          key: key('last'),
          value: 1,
          ttlMs: MINUTE,
        });
        assert.equal(result.status, 'invalid');
      });

      it('remove-member: removes exactly one of the candidates that is present', async ({ store }, key) => {
        const remove = (...members: string[]) =>
          ({ kind: 'remove-member', key: key('codes'), members }) as const;
        await store.replaceSet(key('codes'), ['a', 'b', 'c']);
        assert.deepEqual(await attempt(store, key('f'), T0, remove('x', 'b')), { status: 'ok' });
        assert.equal(await store.countSet(key('codes')), 2);
        assert.deepEqual(await attempt(store, key('f'), T0, remove('b')), { status: 'invalid', failures: 1 });
        assert.deepEqual(await attempt(store, key('f'), T0, remove('a', 'c')), { status: 'ok' });
        assert.equal(await store.countSet(key('codes')), 1);
        assert.equal((await attempt(store, key('f'), T0, remove())).status, 'invalid');
        assert.deepEqual(await attempt(store, key('f'), T0, remove('a', 'c')), { status: 'ok' });
        assert.equal(await store.countSet(key('codes')), 0);
        assert.equal(await store.ttl(key('codes')), null);
        assert.equal((await attempt(store, key('f'), T0, remove('a'))).status, 'invalid');
      });

      it('take: deletes the key only when it equals one of the values', async ({ store }, key) => {
        const take = (...values: string[]) => ({ kind: 'take', key: key('code'), values }) as const;
        await store.set(key('code'), 'h1', MINUTE);
        assert.deepEqual(await attempt(store, key('f'), T0, take('h0')), { status: 'invalid', failures: 1 });
        assert.equal(await store.get(key('code')), 'h1');
        assert.deepEqual(await attempt(store, key('f'), T0, take('h0', 'h1')), { status: 'ok' });
        assert.equal(await store.get(key('code')), null);
        assert.deepEqual(await attempt(store, key('f'), T0, take('h1')), { status: 'invalid', failures: 1 });
      });

      it('take-advance: takes the key, then advances the counter; both or a failure', async ({
        store,
      }, key) => {
        const use = (marker: string, value: number) => takeAdvance(key, marker, value, 2 * MINUTE);
        const limits = { ...LIMITS, limit: 10 };
        for (const marker of ['c1', 'c2', 'c3', 'c4']) await store.set(key(marker), 'verify', MINUTE);
        await store.set(key('other'), 'register', MINUTE);
        // Not the marker's value, or no marker: nothing taken, nothing advanced.
        assert.deepEqual(await attempt(store, key('f'), T0, use('other', 3), limits), {
          status: 'invalid',
          failures: 1,
        });
        assert.equal(await store.get(key('other')), 'register');
        assert.deepEqual(await attempt(store, key('f'), T0, use('none', 3), limits), {
          status: 'invalid',
          failures: 2,
        });
        assert.equal(await store.get(key('counter')), null);
        // Taken and advanced (a missing counter counts as below anything): failures reset.
        assert.deepEqual(await attempt(store, key('f'), T0, use('c1', 3), limits), { status: 'ok' });
        assert.equal(await store.get(key('c1')), null);
        assert.equal(await store.get(key('counter')), '3');
        const ttl = await store.ttl(key('counter'));
        assert.ok(ttl !== null && ttl > MINUTE && ttl <= 2 * MINUTE, `ttl ${ttl}`);
        assert.deepEqual(await store.failures(key('f'), T0), { failures: 0, lockedUntil: null });
        // A used marker again: a replay, nothing taken.
        assert.deepEqual(await attempt(store, key('f'), T0, use('c1', 4), limits), {
          status: 'invalid',
          failures: 1,
        });
        // Taken, but the counter did not increase: refused, `taken`, and the marker stays used.
        assert.deepEqual(await attempt(store, key('f'), T0, use('c2', 3), limits), {
          status: 'invalid',
          failures: 2,
          taken: true,
        });
        assert.equal(await store.get(key('c2')), null);
        assert.equal(await store.get(key('counter')), '3');
        // 0 (an authenticator that does not count) once a count was seen: refused.
        assert.deepEqual(await attempt(store, key('f'), T0, use('c3', 0), limits), {
          status: 'invalid',
          failures: 3,
          taken: true,
        });
        assert.deepEqual(await attempt(store, key('f'), T0, use('c4', 4), limits), { status: 'ok' });
        assert.equal(await store.get(key('counter')), '4');
      });

      it('take-advance: 0 passes while the counter is missing or 0, and writes nothing', async ({
        store,
      }, key) => {
        const use = (marker: string) => takeAdvance(key, marker, 0, MINUTE);
        for (const marker of ['c1', 'c2', 'c3']) await store.set(key(marker), 'verify', MINUTE);
        assert.deepEqual(await attempt(store, key('f'), T0, use('c1')), { status: 'ok' });
        assert.equal(await store.get(key('counter')), null);
        await store.set(key('counter'), '0');
        assert.deepEqual(await attempt(store, key('f'), T0, use('c2')), { status: 'ok' });
        // Unreadable counters fail closed.
        await store.set(key('counter'), 'garbage');
        assert.deepEqual(await attempt(store, key('f'), T0, use('c3')), {
          status: 'invalid',
          failures: 1,
          taken: true,
        });
      });

      it('while locked, no action runs', async ({ store }, key) => {
        await lock(store, key('f'), T0);
        await store.replaceSet(key('codes'), ['a']);
        await store.set(key('code'), 'h1');
        const actions: AttemptAction[] = [
          right,
          { kind: 'advance', key: key('last'), value: 5, ttlMs: MINUTE },
          { kind: 'remove-member', key: key('codes'), members: ['a'] },
          { kind: 'take', key: key('code'), values: ['h1'] },
          {
            kind: 'take-advance',
            key: key('code'),
            values: ['h1'],
            counterKey: key('last'),
            value: 5,
            ttlMs: MINUTE,
          },
        ];
        for (const action of actions) {
          const result = await attempt(store, key('f'), T0 + 1000, action);
          assert.deepEqual(result, { status: 'locked', retryAfterMs: LIMITS.lockMs - 1000 }, action.kind);
        }
        assert.equal(await store.get(key('last')), null);
        assert.equal(await store.countSet(key('codes')), 1);
        assert.equal(await store.get(key('code')), 'h1');
        assert.deepEqual(await store.failures(key('f'), T0), {
          failures: 3,
          lockedUntil: T0 + LIMITS.lockMs,
        });
      });
    });

    describe('parallel calls', () => {
      const times = <T>(n: number, run: () => Promise<T>) => Promise.all(Array.from({ length: n }, run));
      const count = <T>(items: T[], pick: (item: T) => boolean) => items.filter(pick).length;

      it('50 takes of one key: exactly one gets the value', async ({ store }, key) => {
        await store.set(key('t'), 'once', MINUTE);
        const results = await times(50, () => store.take(key('t')));
        assert.equal(
          count(results, (r) => r === 'once'),
          1,
        );
        assert.equal(
          count(results, (r) => r === null),
          49,
        );
      });

      it('50 parallel addToSet calls: every distinct member lands, a repeated one is new once', async ({
        store,
      }, key) => {
        const members = Array.from({ length: 50 }, (_, i) => `m${i}`);
        await Promise.all(members.map((m) => store.addToSet(key('set'), m)));
        assert.equal((await store.members(key('set'))).length, 50);
        const repeated = await times(50, () => store.addToSet(key('same'), 'x'));
        assert.equal(
          count(repeated, (r) => r),
          1,
        );
      });

      it('50 remove-member attempts of one member: exactly one ok', async ({ store }, key) => {
        await store.replaceSet(key('codes'), ['a', 'b']);
        const action: AttemptAction = { kind: 'remove-member', key: key('codes'), members: ['a'] };
        const limits = { ...LIMITS, limit: 100 };
        const results = await times(50, () => attempt(store, key('f'), T0, action, limits));
        assert.equal(
          count(results, (r) => r.status === 'ok'),
          1,
        );
        assert.equal(
          count(results, (r) => r.status === 'invalid'),
          49,
        );
        assert.equal(await store.countSet(key('codes')), 1);
      });

      it('50 take attempts of one code: exactly one ok', async ({ store }, key) => {
        await store.set(key('code'), 'h1', MINUTE);
        const action: AttemptAction = { kind: 'take', key: key('code'), values: ['h1'] };
        const results = await times(50, () =>
          attempt(store, key('f'), T0, action, { ...LIMITS, limit: 100 }),
        );
        assert.equal(
          count(results, (r) => r.status === 'ok'),
          1,
        );
      });

      it('50 take-advances of one marker, then 50 of as many markers with one count: one ok each time', async ({
        store,
      }, key) => {
        const limits = { ...LIMITS, limit: 100 };
        const use = (marker: string, value: number) => takeAdvance(key, marker, value, MINUTE);
        await store.set(key('one'), 'verify', MINUTE);
        const replays = await times(50, () => attempt(store, key('f'), T0, use('one', 1), limits));
        assert.equal(
          count(replays, (r) => r.status === 'ok'),
          1,
        );
        // The others found the marker gone: replays, not counter failures.
        assert.equal(
          count(replays, (r) => r.status === 'invalid' && !r.taken),
          49,
        );
        const markers = Array.from({ length: 50 }, (_, i) => `m${i}`);
        for (const m of markers) await store.set(key(m), 'verify', MINUTE);
        const clones = await Promise.all(markers.map((m) => attempt(store, key('g'), T0, use(m, 7), limits)));
        assert.equal(
          count(clones, (r) => r.status === 'ok'),
          1,
        );
        assert.equal(
          count(clones, (r) => r.status === 'invalid' && r.taken === true),
          49,
        );
        assert.equal(await store.get(key('counter')), '7');
      });

      it('50 advances to the same value: exactly one ok', async ({ store }, key) => {
        const action: AttemptAction = { kind: 'advance', key: key('last'), value: 42, ttlMs: MINUTE };
        const results = await times(50, () =>
          attempt(store, key('f'), T0, action, { ...LIMITS, limit: 100 }),
        );
        assert.equal(
          count(results, (r) => r.status === 'ok'),
          1,
        );
        assert.equal(await store.get(key('last')), '42');
      });

      it('30 wrong checks with limit 5: exactly 5 invalid (1..5) and 25 locked', async ({ store }, key) => {
        const limits = { ...LIMITS, limit: 5 };
        const results = await times(30, () => attempt(store, key('f'), T0, wrong, limits));
        const failures = results.flatMap((r) => (r.status === 'invalid' ? [r.failures] : []));
        assert.deepEqual(
          failures.sort((a, b) => a - b),
          [1, 2, 3, 4, 5],
        );
        assert.equal(
          count(results, (r) => r.status === 'locked'),
          25,
        );
        assert.deepEqual(await store.failures(key('f'), T0), {
          failures: 5,
          lockedUntil: T0 + LIMITS.lockMs,
        });
      });
    });
  });
}

/** A take-advance of the marker `key(marker)` (holding 'verify') with the counter at `key('counter')`. */
function takeAdvance(
  key: (name: string) => string,
  marker: string,
  value: number,
  ttlMs: number,
): AttemptAction {
  return {
    kind: 'take-advance',
    key: key(marker),
    values: ['verify'],
    counterKey: key('counter'),
    value,
    ttlMs,
  };
}
