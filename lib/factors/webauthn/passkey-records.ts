import { randomBytes } from 'node:crypto';
import type { Store } from '../../stores/store.js';
import { bookkeep } from './bookkeeping.js';
import { initCounter } from './signature-counter.js';
import { webauthnKeys } from './webauthn-keys.js';

/** What is kept about one passkey. Nothing in it is secret: the private key never leaves the authenticator. */
export interface PasskeyRecord {
  /** Credential id, base64url. */
  id: string;
  /** COSE public key, base64url. */
  publicKey: string;
  /**
   * Signature counter at registration (0 for authenticators that do not count). Later counts live
   * under their own key (see `advanceCounter` and `useAsSecondFactor`), so uses never rewrite the record.
   */
  counter: number;
  transports: string[];
  /** 'multiDevice' passkeys can be synced (backup eligible); 'singleDevice' ones never leave the device. */
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  name: string;
  /** The user handle the authenticator holds for this credential, base64url. */
  userHandle: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** What pages see about a passkey. */
export interface PasskeySummary {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  deviceType: PasskeyRecord['deviceType'];
  backedUp: boolean;
}

export const summarize = (r: PasskeyRecord): PasskeySummary => ({
  id: r.id,
  name: r.name,
  createdAt: r.createdAt,
  lastUsedAt: r.lastUsedAt,
  deviceType: r.deviceType,
  backedUp: r.backedUp,
});

/** A passkey's last use, kept apart from its record so that a use cannot undo a concurrent rename. */
export interface LastUse {
  at: number;
  /** The backup state may change over a passkey's life (WebAuthn §6.1.3): the latest is kept. */
  backedUp: boolean;
}

/** 32 random bytes (WebAuthn allows up to 64): identifies the account to authenticators, never the user id. */
const USER_HANDLE_BYTES = 32;

/** What `add` is told besides the record. */
export interface AddOptions {
  /** Registered in a recovery session: no passwordless sign-in until used as a second factor. */
  inRecovery?: boolean;
  /** Most passkeys the user may have; an addition past it is undone and `add` answers false. */
  max?: number;
}

/**
 * Passkeys in the store: an index (a set) of ids per user, one record per credential, and an owner key
 * per credential for sign-in. Each piece that changes after registration has its own key, changed by
 * one atomic operation: the index by SADD / remove-member, the signature counter by `advance`, the
 * last use by a plain write. So nothing is read-modified-written: parallel registrations, removals,
 * uses and renames cannot undo one another. A record left behind by an interrupted removal is not in
 * the index and so does not count.
 */
export function passkeyRecords(store: Store, now: () => number = Date.now) {
  const ids = (userId: string): Promise<string[]> => store.members(webauthnKeys.ids(userId));
  const count = (userId: string): Promise<number> => store.countSet(webauthnKeys.ids(userId));

  async function read(userId: string, id: string): Promise<PasskeyRecord | undefined> {
    const [raw, use] = await Promise.all([
      store.get(webauthnKeys.credential(userId, id)),
      store.get(webauthnKeys.lastUse(userId, id)),
    ]);
    if (raw === null) return undefined;
    const record = JSON.parse(raw) as PasskeyRecord;
    if (use === null) return record;
    const last = JSON.parse(use) as LastUse;
    return { ...record, lastUsedAt: last.at, backedUp: last.backedUp };
  }

  /** The user's passkeys, oldest first. */
  async function list(userId: string): Promise<PasskeyRecord[]> {
    const all = await Promise.all((await ids(userId)).map((id) => read(userId, id)));
    return all
      .filter((r): r is PasskeyRecord => r !== undefined)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  /** The user's passkey with this id, or undefined when it is not theirs (or gone). */
  async function get(userId: string, id: string): Promise<PasskeyRecord | undefined> {
    if (!(await ids(userId)).includes(id)) return undefined;
    return read(userId, id);
  }

  /**
   * The stored record of the user's passkey `id` alone, for checking an assertion: one read, with
   * neither the last use nor the index. A record that is not (or no longer) in the index is a
   * leftover, so a caller must still check `ids` before accepting the use.
   */
  async function forAssertion(userId: string, id: string): Promise<PasskeyRecord | undefined> {
    const raw = await store.get(webauthnKeys.credential(userId, id));
    return raw === null ? undefined : (JSON.parse(raw) as PasskeyRecord);
  }

  /** The user a credential is registered to, or null. */
  async function owner(credentialId: string): Promise<string | null> {
    const userId = await store.get(webauthnKeys.owner(credentialId));
    // An owner key whose user no longer lists the credential is a leftover of an interrupted removal.
    if (userId === null || !(await ids(userId)).includes(credentialId)) return null;
    return userId;
  }

  /** Adds a passkey; false (and nothing added) when that would exceed `options.max`. */
  async function add(userId: string, record: PasskeyRecord, options: AddOptions = {}): Promise<boolean> {
    const { id } = record;
    // Everything else first: until the index lists the id, the passkey does not count anywhere, and
    // once it does, its recovery flag is already there.
    await store.set(webauthnKeys.owner(id), userId);
    await store.set(webauthnKeys.credential(userId, id), JSON.stringify(record));
    await initCounter(store, userId, id, record.counter);
    // Leftovers of an earlier registration of this credential id must not carry over.
    await store.delete(webauthnKeys.lastUse(userId, id), webauthnKeys.unconfirmed(userId, id));
    if (options.inRecovery) await store.set(webauthnKeys.unconfirmed(userId, id), '1');
    await store.addToSet(webauthnKeys.ids(userId), id);
    // Counted after adding: of parallel additions past the cap, each one that sees too many undoes
    // itself, so the user never keeps more than `max` (at worst, racing additions all give way).
    if (options.max !== undefined && (await count(userId)) > options.max) {
      await remove(userId, id);
      return false;
    }
    return true;
  }

  /** Rewrites a record that is already indexed (rename). */
  async function save(userId: string, record: PasskeyRecord): Promise<void> {
    await store.set(webauthnKeys.credential(userId, record.id), JSON.stringify(record));
  }

  /** Notes a use (time, backup state); the signature counter is kept by `advanceCounter` and `useAsSecondFactor`. */
  async function noteUse(userId: string, id: string, use: LastUse): Promise<void> {
    await store.set(webauthnKeys.lastUse(userId, id), JSON.stringify(use));
  }

  /** Whether this passkey was registered in a recovery session and has not been used as a second factor. */
  async function unconfirmed(userId: string, id: string): Promise<boolean> {
    return (await store.get(webauthnKeys.unconfirmed(userId, id))) !== null;
  }

  /** Used as a second factor in a normal session: from now on it may sign in without a password. */
  async function confirm(userId: string, id: string): Promise<void> {
    await store.delete(webauthnKeys.unconfirmed(userId, id));
  }

  async function remove(userId: string, id: string): Promise<void> {
    // Index first (one atomic removal): from then on the passkey counts nowhere, whatever happens next.
    await bookkeep(
      store,
      userId,
      { kind: 'remove-member', key: webauthnKeys.ids(userId), members: [id] },
      now(),
    );
    const ownerKey = webauthnKeys.owner(id);
    if ((await store.get(ownerKey)) === userId) await store.delete(ownerKey);
    await store.delete(
      webauthnKeys.credential(userId, id),
      webauthnKeys.counter(userId, id),
      webauthnKeys.lastUse(userId, id),
      webauthnKeys.unconfirmed(userId, id),
    );
  }

  /** Every passkey record of the user, and their user handle (factor reset). */
  async function removeAll(userId: string): Promise<void> {
    for (const id of await ids(userId)) await remove(userId, id);
    await store.delete(webauthnKeys.ids(userId), webauthnKeys.userHandle(userId));
  }

  /**
   * The user's handle, created on first use. Two first registrations racing may each create one;
   * that is harmless because every record keeps the handle its own registration used.
   */
  async function userHandle(userId: string): Promise<string> {
    const key = webauthnKeys.userHandle(userId);
    const existing = await store.get(key);
    if (existing !== null) return existing;
    const handle = randomBytes(USER_HANDLE_BYTES).toString('base64url');
    await store.set(key, handle);
    return handle;
  }

  return {
    ids,
    count,
    list,
    get,
    forAssertion,
    owner,
    add,
    save,
    noteUse,
    unconfirmed,
    confirm,
    remove,
    removeAll,
    userHandle,
  };
}

export type PasskeyRecords = ReturnType<typeof passkeyRecords>;
