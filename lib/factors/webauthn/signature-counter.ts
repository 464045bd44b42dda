import type { Store } from '../../stores/store.js';
import { DAY } from '../../time.js';
import { bookkeep } from './bookkeeping.js';
import { webauthnKeys } from './webauthn-keys.js';

/**
 * `advance` stores with a TTL. The counter key lives far longer than any passkey sits unused, and
 * every accepted count renews it.
 */
export const COUNTER_TTL_MS = 10 * 365 * DAY;

/** Whether a use may proceed; `stored` is the count already seen when it may not. */
export type CounterVerdict = { ok: true } | { ok: false; stored: number };

/** The counter a new credential starts from (its attestation's count, usually 0). */
export async function initCounter(
  store: Store,
  userId: string,
  credentialId: string,
  counter: number,
): Promise<void> {
  await store.set(webauthnKeys.counter(userId, credentialId), String(counter), COUNTER_TTL_MS);
}

/**
 * WebAuthn §7.2 step 21: "If authData.signCount is nonzero or storedSignCount is nonzero", a count
 * that is not greater than the stored one "is a signal that the authenticator may be cloned".
 *
 * A nonzero count is accepted only by the store's atomic `advance` (store it only if greater), so of
 * parallel assertions carrying the same count exactly one passes, and a late request can never move
 * the counter back. A count of 0 comes from authenticators that do not count at all: fine as long as
 * none was ever counted for this credential.
 */
export async function advanceCounter(
  store: Store,
  userId: string,
  credentialId: string,
  received: number,
  now: number,
): Promise<CounterVerdict> {
  const key = webauthnKeys.counter(userId, credentialId);
  const storedNow = async () => {
    const raw = await store.get(key);
    // Anything unreadable fails closed, like `advance` itself does on a non-number.
    return raw === null ? 0 : Number(raw);
  };
  if (received === 0) {
    const stored = await storedNow();
    return stored === 0 ? { ok: true } : { ok: false, stored };
  }
  const action = { kind: 'advance', key, value: received, ttlMs: COUNTER_TTL_MS } as const;
  if (await bookkeep(store, userId, action, now)) return { ok: true };
  return { ok: false, stored: await storedNow() };
}
