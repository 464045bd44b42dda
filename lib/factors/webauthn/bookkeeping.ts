import type { AttemptAction, Store } from '../../stores/store.js';
import { MINUTE } from '../../time.js';
import { webauthnKeys } from './webauthn-keys.js';

/**
 * Runs a compare-and-set `action` (`advance`, `remove-member`) of the passkey bookkeeping; true when
 * it succeeded. The Store contract offers these atomic actions only inside `attempt`, which also
 * keeps a failure counter: here a per-user one that nothing reads, with a limit that is never reached,
 * so the user's attempt limits neither change nor block the bookkeeping.
 */
export async function bookkeep(
  store: Store,
  userId: string,
  action: AttemptAction,
  now: number,
): Promise<boolean> {
  const result = await store.attempt({
    failKey: webauthnKeys.bookkeeping(userId),
    limit: Number.MAX_SAFE_INTEGER,
    windowMs: MINUTE,
    lockMs: MINUTE,
    now,
    action,
  });
  return result.status === 'ok';
}
