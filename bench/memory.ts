/**
 * The `memory` scenario: a MemoryStore driven in-process, with an injected clock that advances, through
 * the same store calls the TOTP and backup-code routes make (pending secret set with a TTL, attempts
 * that advance the last TOTP step with a TTL, failures that open a counter with a TTL). Every attempt
 * is for a new user, the worst case for growth: nothing is ever overwritten, only expiry can free it.
 *
 * Bounded means: the key count ends near the live working set (keys whose TTL has not run out), not
 * near the number of attempts; and the heap, sampled after GC while the store runs on its own (no
 * `size()` calls, which sweep), stays near what the live set needs.
 *
 * Runs in its own process (forked with --expose-gc by run.ts) so RSS is the store's, not autocannon's;
 * standalone: `node --expose-gc --import tsx bench/memory.ts 1000000`.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryStore } from '../lib/index.js';

export interface MemoryOptions {
  attempts: number;
  /** Clock advance per attempt (ms). 60 ms: 1M attempts cover ~17 h, the TTLs below 10–15 min. */
  tickMs?: number;
}

export interface MemoryResult {
  attempts: number;
  simulatedHours: number;
  /** Keys whose TTL has not run out at the end (computed from the schedule, independently of the store). */
  liveKeys: number;
  /** `store.size()` at the end. */
  storeKeys: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  heapBeforeMb: number;
  /** Highest heap after GC among the samples taken during the run. */
  heapPeakMb: number;
  heapAfterMb: number;
  /** Heap the live set needs, estimated from the end state: (heap after size() - heap before) / live keys. */
  bytesPerKey: number;
  /** Peak heap growth expressed in keys of that size: near 2x live or less means the store bounded itself. */
  peakKeysEquivalent: number;
  seconds: number;
  bounded: boolean;
}

// The routes' TTLs (defaults): pending secret 10 min, last TOTP step 10 min, failure window 15 min.
const PENDING_TTL_MS = 10 * 60_000;
const LAST_STEP_TTL_MS = 10 * 60_000;
const WINDOW_MS = 15 * 60_000;
const LOCK_MS = 15 * 60_000;
const LIMIT = 5;
/** Samples of the heap during the run. */
const SAMPLES = 10;

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const tag = (i: number) => `{u:${i.toString(36)}}`;

function collect(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage();
}

/**
 * Attempt i (clock at start + (i + 1) * tick) does, by i % 4:
 *   0: user i sets up TOTP (pending secret, TTL 10 min) and verifies (advance last step, TTL 10 min)
 *   1: user i types a wrong TOTP code (failure counter, TTL 15 min)
 *   2: user i tries a wrong backup code (remove-member on no set: failure counter, TTL 15 min)
 *   3: user i - 3 replays the step it just used (refused: failure counter, TTL 15 min)
 * Returns the expiry time of every key written, in the order written (for counting the live set).
 */
function* expiries(attempts: number, start: number, tickMs: number): Generator<number> {
  for (let i = 0; i < attempts; i++) {
    const now = start + (i + 1) * tickMs;
    if (i % 4 === 0) {
      yield now + PENDING_TTL_MS;
      yield now + LAST_STEP_TTL_MS;
    } else {
      yield now + WINDOW_MS;
    }
  }
}

export async function runMemory({ attempts, tickMs = 60 }: MemoryOptions): Promise<MemoryResult> {
  if (!(Number.isInteger(attempts) && attempts > 0))
    throw new RangeError('attempts must be a positive integer');
  const start = Date.UTC(2026, 0, 1);
  let t = start;
  const store = new MemoryStore({ now: () => t });
  const before = collect();
  const began = performance.now();
  let heapPeak = before.heapUsed;
  const sampleEvery = Math.max(1, Math.floor(attempts / SAMPLES));

  for (let i = 0; i < attempts; i++) {
    t += tickMs;
    const user = tag(i);
    const step = Math.floor(t / 30_000);
    const common = { limit: LIMIT, windowMs: WINDOW_MS, lockMs: LOCK_MS, now: t };
    switch (i % 4) {
      case 0:
        await store.set(
          `${user}:totp:pending`,
          'v1.keyid.iv.ciphertext-of-a-pending-secret.tag',
          PENDING_TTL_MS,
        );
        await store.attempt({
          ...common,
          failKey: `${user}:failures:totp`,
          action: { kind: 'advance', key: `${user}:totp:last-step`, value: step, ttlMs: LAST_STEP_TTL_MS },
        });
        break;
      case 1:
        await store.attempt({
          ...common,
          failKey: `${user}:failures:totp`,
          action: { kind: 'check', ok: false },
        });
        break;
      case 2:
        await store.attempt({
          ...common,
          failKey: `${user}:failures:backup_codes`,
          action: { kind: 'remove-member', key: `${user}:backup-codes`, members: ['k.hash-a', 'k.hash-b'] },
        });
        break;
      default: {
        const replayer = tag(i - 3);
        const result = await store.attempt({
          ...common,
          failKey: `${replayer}:failures:totp`,
          action: {
            kind: 'advance',
            key: `${replayer}:totp:last-step`,
            value: step - 1,
            ttlMs: LAST_STEP_TTL_MS,
          },
        });
        if (result.status === 'ok') throw new Error('memory scenario: a replayed step was accepted');
      }
    }
    if ((i + 1) % sampleEvery === 0) heapPeak = Math.max(heapPeak, collect().heapUsed);
  }

  const seconds = (performance.now() - began) / 1000;
  let liveKeys = 0;
  for (const expiry of expiries(attempts, start, tickMs)) if (expiry > t) liveKeys++;
  const storeKeys = store.size();
  store.close();
  const after = collect();
  if (store.size() !== storeKeys) throw new Error('memory scenario: the store changed after the run');
  const bytesPerKey = liveKeys > 0 ? Math.max(1, (after.heapUsed - before.heapUsed) / liveKeys) : 1;
  const peakKeysEquivalent = Math.round((heapPeak - before.heapUsed) / bytesPerKey);
  // The store sweeps once writes since the last sweep outnumber the keys it kept (at least 1024), so
  // between sweeps it holds up to about twice the live keys plus 1024: allow 3x for GC timing.
  const bounded = storeKeys <= liveKeys * 1.05 + 16 && peakKeysEquivalent <= 3 * (liveKeys + 1024);
  return {
    attempts,
    simulatedHours: Math.round(((t - start) / 3_600_000) * 10) / 10,
    liveKeys,
    storeKeys,
    rssBeforeMb: mb(before.rss),
    rssAfterMb: mb(after.rss),
    heapBeforeMb: mb(before.heapUsed),
    heapPeakMb: mb(heapPeak),
    heapAfterMb: mb(after.heapUsed),
    bytesPerKey: Math.round(bytesPerKey),
    peakKeysEquivalent,
    seconds: Math.round(seconds * 10) / 10,
    bounded,
  };
}

// Forked by run.ts (answers over IPC) or run by hand (prints JSON).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const attempts = Number(process.argv[2] ?? 1_000_000);
  if (!(globalThis as { gc?: unknown }).gc) console.warn('memory: run with --expose-gc for heap figures');
  const result = await runMemory({ attempts });
  if (process.send) process.send(result);
  else console.log(JSON.stringify(result, null, 2));
}
