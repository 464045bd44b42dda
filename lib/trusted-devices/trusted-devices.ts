import { randomBytes } from 'node:crypto';
import type { Keyring } from '../crypto.js';
import type { Store } from '../stores/store.js';
import { MINUTE } from '../time.js';
import { deviceName } from './device-name.js';
import { trustedDeviceKeys as k } from './trusted-device-keys.js';
import type { TrustedDeviceConfig } from './trusted-device-options.js';

/** A remembered device as the user sees it in their list. Nothing secret. */
export interface TrustedDevice {
  id: string;
  /** From the User-Agent when it was remembered, e.g. "Firefox on Linux". */
  name: string;
  createdAt: number;
  lastUsedAt: number;
  /** When it stops skipping the second factor (ms, injected clock). */
  expiresAt: number;
}

interface DeviceRecord extends TrustedDevice {
  /** The generation it was made in (see `trustedDeviceKeys.generation`). */
  generation: string;
  /** The keyed hash of its live token: the token itself is never stored. */
  tokenHash: string;
}

/** 128 bits from the CSPRNG, base64url: what the cookie holds. */
const newToken = () => randomBytes(16).toString('base64url');
const newId = () => randomBytes(9).toString('base64url');
const INITIAL_GENERATION = '0';

/**
 * The store side of "remember this device": a token per device, kept only as a keyed hash, single use
 * (every sign-in with it takes it atomically and issues the next), bounded per user and revocable.
 */
export function trustedDevices(store: Store, keyring: Keyring, config: TrustedDeviceConfig) {
  const context = (userId: string) => `trusted-device:${userId}`;

  async function generation(userId: string): Promise<string> {
    return (await store.get(k.generation(userId))) ?? INITIAL_GENERATION;
  }

  async function read(
    userId: string,
    id: string,
    now: number,
    gen: string,
  ): Promise<DeviceRecord | undefined> {
    const raw = await store.get(k.device(userId, id));
    if (raw === null) return undefined;
    const record = JSON.parse(raw) as DeviceRecord;
    return record.generation === gen && record.expiresAt > now ? record : undefined;
  }

  /** Writes the record and its token's key, both living exactly as long as the device. */
  async function write(userId: string, record: DeviceRecord, now: number): Promise<void> {
    const ttl = Math.max(1, record.expiresAt - now);
    await store.set(k.token(userId, record.tokenHash), record.id, ttl);
    await store.set(k.device(userId, record.id), JSON.stringify(record), ttl);
  }

  async function forget(userId: string, record: DeviceRecord, now: number): Promise<void> {
    // The record first: without it a token is worthless, whatever happens to the rest.
    await store.delete(k.device(userId, record.id), k.token(userId, record.tokenHash));
    await unindex(userId, [record.id], now);
  }

  /** Removes ids from the index (atomic removal exists only inside `attempt`, with a counter nobody reads). */
  async function unindex(userId: string, ids: string[], now: number): Promise<void> {
    await store.attempt({
      failKey: `${k.ids(userId)}:bookkeeping`,
      limit: Number.MAX_SAFE_INTEGER,
      windowMs: MINUTE,
      lockMs: MINUTE,
      now,
      action: { kind: 'remove-member', key: k.ids(userId), members: ids },
    });
  }

  /** The user's live devices, oldest first; ids of expired or revoked ones are dropped from the index. */
  async function list(userId: string, now: number): Promise<TrustedDevice[]> {
    const gen = await generation(userId);
    const ids = await store.members(k.ids(userId));
    const records = await Promise.all(ids.map((id) => read(userId, id, now, gen)));
    const dead = ids.filter((_, i) => records[i] === undefined);
    for (const id of dead) await unindex(userId, [id], now);
    return records
      .filter((r): r is DeviceRecord => r !== undefined)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map(({ id, name, createdAt, lastUsedAt, expiresAt }) => ({
        id,
        name,
        createdAt,
        lastUsedAt,
        expiresAt,
      }));
  }

  /** Remembers a new device; the oldest ones go past `maxPerUser`. Returns its token for the cookie. */
  async function remember(userId: string, userAgent: string | undefined, now: number) {
    const token = newToken();
    const record: DeviceRecord = {
      id: newId(),
      name: deviceName(userAgent),
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now + config.ttlMs,
      generation: await generation(userId),
      tokenHash: keyring.hash(context(userId), token),
    };
    await write(userId, record, now);
    await store.addToSet(k.ids(userId), record.id);
    const live = await list(userId, now);
    for (const old of live.slice(0, Math.max(0, live.length - config.maxPerUser))) {
      if (old.id !== record.id) await revoke(userId, old.id, now);
    }
    return { token, device: record as TrustedDevice };
  }

  /**
   * Uses a device token of `userId`: taken atomically, so of parallel sign-ins with one cookie exactly
   * one is let through; that one gets the next token. Undefined when the token is not a live device
   * of this user (another user's, expired, revoked, already used).
   */
  async function redeem(userId: string, token: string, now: number) {
    let id: string | null = null;
    let hash = '';
    for (const candidate of keyring.hashes(context(userId), token)) {
      id = await store.take(k.token(userId, candidate));
      hash = candidate;
      if (id !== null) break;
    }
    if (id === null) return undefined;
    const record = await read(userId, id, now, await generation(userId));
    if (!record || record.tokenHash !== hash) return undefined;
    const next = newToken();
    const rotated: DeviceRecord = {
      ...record,
      lastUsedAt: now,
      tokenHash: keyring.hash(context(userId), next),
    };
    await write(userId, rotated, now);
    return { token: next, device: rotated as TrustedDevice };
  }

  /** The id of the device this token belongs to (to mark "this device" in a list), without using it. */
  async function idOf(userId: string, token: string): Promise<string | undefined> {
    for (const candidate of keyring.hashes(context(userId), token)) {
      const id = await store.get(k.token(userId, candidate));
      if (id !== null) return id;
    }
    return undefined;
  }

  async function revoke(userId: string, id: string, now: number): Promise<boolean> {
    const raw = await store.get(k.device(userId, id));
    if (raw === null) {
      await unindex(userId, [id], now);
      return false;
    }
    await forget(userId, JSON.parse(raw) as DeviceRecord, now);
    return true;
  }

  /**
   * Forgets every device of the user. The generation moves on first, so even a device the index
   * missed stops working at once; then the records go. Returns the ids of the live ones.
   */
  async function revokeAll(userId: string, now: number): Promise<string[]> {
    const live = await list(userId, now);
    await store.set(k.generation(userId), newId());
    const ids = await store.members(k.ids(userId));
    for (const id of ids) await revoke(userId, id, now);
    return live.map((d) => d.id);
  }

  return { list, remember, redeem, idOf, revoke, revokeAll };
}

export type TrustedDevices = ReturnType<typeof trustedDevices>;
