import type { Keyring } from '../../crypto.js';

/** A phone number at rest: encrypted (it is personal data), bound to the user by the cipher's context. */
export interface StoredPhone {
  phone: string;
  createdAt?: number;
  expiresAt?: number;
}

export type PhoneKind = 'bound' | 'pending';

/** What a stored number's encryption is bound to: its state and its user. */
export const phoneContext = (kind: PhoneKind, userId: string) => `sms-phone:${kind}:${userId}`;

/** The stored number, decrypted; undefined when missing or expired by the injected clock (`now`). */
export function readPhoneRecord(
  keyring: Keyring,
  raw: string | null,
  kind: PhoneKind,
  userId: string,
  now: number,
) {
  if (raw === null) return undefined;
  const record = JSON.parse(raw) as StoredPhone;
  if (record.expiresAt !== undefined && record.expiresAt <= now) return undefined;
  return { record, phone: keyring.decrypt(record.phone, phoneContext(kind, userId)) };
}
