import { randomBytes } from 'node:crypto';
import type { Store } from '../../stores/store.js';
import { webauthnKeys } from './webauthn-keys.js';

/** What is kept about one passkey. Nothing in it is secret: the private key never leaves the authenticator. */
export interface PasskeyRecord {
  /** Credential id, base64url. */
  id: string;
  /** COSE public key, base64url. */
  publicKey: string;
  /** Signature counter last seen (0 for authenticators that do not count). */
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

/** 32 random bytes (WebAuthn allows up to 64): identifies the account to authenticators, never the user id. */
const USER_HANDLE_BYTES = 32;

/**
 * Passkeys in the store: an index of ids per user, one record per credential, and an owner key per
 * credential for sign-in. Uses (counter, last used) and renames write only the credential's record,
 * never the index, so they cannot undo a concurrent registration or removal; a record left behind
 * by such a race is not in the index and so does not count.
 */
export function passkeyRecords(store: Store) {
  async function ids(userId: string): Promise<string[]> {
    const raw = await store.get(webauthnKeys.ids(userId));
    return raw === null ? [] : (JSON.parse(raw) as string[]);
  }

  async function read(userId: string, id: string): Promise<PasskeyRecord | undefined> {
    const raw = await store.get(webauthnKeys.credential(userId, id));
    return raw === null ? undefined : (JSON.parse(raw) as PasskeyRecord);
  }

  /** The user's passkeys, oldest first. */
  async function list(userId: string): Promise<PasskeyRecord[]> {
    const all = await Promise.all((await ids(userId)).map((id) => read(userId, id)));
    return all.filter((r): r is PasskeyRecord => r !== undefined);
  }

  /** The user's passkey with this id, or undefined when it is not theirs (or gone). */
  async function get(userId: string, id: string): Promise<PasskeyRecord | undefined> {
    if (!(await ids(userId)).includes(id)) return undefined;
    return read(userId, id);
  }

  /** The user a credential is registered to, or null. */
  async function owner(credentialId: string): Promise<string | null> {
    const userId = await store.get(webauthnKeys.owner(credentialId));
    // An owner key whose user no longer lists the credential is a leftover of an interrupted removal.
    if (userId === null || !(await ids(userId)).includes(credentialId)) return null;
    return userId;
  }

  async function add(userId: string, record: PasskeyRecord): Promise<void> {
    // Owner and record first: until the index lists the id, the passkey does not count anywhere.
    await store.set(webauthnKeys.owner(record.id), userId);
    await store.set(webauthnKeys.credential(userId, record.id), JSON.stringify(record));
    const current = await ids(userId);
    await store.set(
      webauthnKeys.ids(userId),
      JSON.stringify([...current.filter((id) => id !== record.id), record.id]),
    );
  }

  /** Rewrites a record that is already indexed (rename, counter). */
  async function save(userId: string, record: PasskeyRecord): Promise<void> {
    await store.set(webauthnKeys.credential(userId, record.id), JSON.stringify(record));
  }

  async function remove(userId: string, id: string): Promise<void> {
    // Index first: from then on the passkey counts nowhere, whatever happens to the rest.
    const rest = (await ids(userId)).filter((other) => other !== id);
    if (rest.length === 0) await store.delete(webauthnKeys.ids(userId));
    else await store.set(webauthnKeys.ids(userId), JSON.stringify(rest));
    const ownerKey = webauthnKeys.owner(id);
    if ((await store.get(ownerKey)) === userId) await store.delete(ownerKey);
    await store.delete(webauthnKeys.credential(userId, id));
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

  return { ids, list, get, owner, add, save, remove, removeAll, userHandle };
}

export type PasskeyRecords = ReturnType<typeof passkeyRecords>;
