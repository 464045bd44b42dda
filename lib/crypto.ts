import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  randomInt,
} from 'node:crypto';

/**
 * Keys derived from the app's `secret` option. The first secret is current (new data uses it); the
 * others are previous ones kept so data written before a rotation still decrypts and still matches.
 */
export interface Keyring {
  /** AES-256-GCM; `context` is bound as associated data so a ciphertext cannot be moved between users. */
  encrypt(plaintext: string, context: string): string;
  /** Throws when no key decrypts it (tampered, wrong context, or a removed secret). */
  decrypt(token: string, context: string): string;
  /** Whether `token` was encrypted with the current key (else re-encrypt it when convenient). */
  isCurrent(token: string): boolean;
  /** Keyed hash with the current key, for storing codes: `<keyId>.<hmac>`. */
  hash(context: string, value: string): string;
  /** The value's hash under every key, current first: what a stored hash may be. */
  hashes(context: string, value: string): string[];
}

interface DerivedKey {
  id: string;
  enc: Buffer;
  mac: Buffer;
}

function derive(secret: string): DerivedKey {
  const ikm = Buffer.from(secret, 'utf8');
  const take = (info: string) => Buffer.from(hkdfSync('sha256', ikm, 'express-mfa', info, 32));
  // The key id names the key without revealing anything usable about it.
  const id = createHash('sha256').update(take('key-id')).digest('base64url').slice(0, 8);
  return { id, enc: take('encryption'), mac: take('code-hash') };
}

export function createKeyring(secrets: readonly string[]): Keyring {
  const keys = secrets.map(derive);
  const current = keys[0];
  if (!current) throw new Error('createKeyring needs at least one secret');
  const byId = new Map(keys.map((k) => [k.id, k]));
  const mac = (key: DerivedKey, context: string, value: string) =>
    `${key.id}.${createHmac('sha256', key.mac).update(context).update('\0').update(value).digest('base64url')}`;

  return {
    encrypt(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.enc, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [
        'v1',
        current.id,
        iv.toString('base64url'),
        body.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
      ].join('.');
    },
    decrypt(token, context) {
      const [version, keyId, iv, body, tag] = token.split('.');
      const key = keyId === undefined ? undefined : byId.get(keyId);
      if (version !== 'v1' || iv === undefined || body === undefined || tag === undefined) {
        throw new Error('encrypted value has an unknown format');
      }
      if (!key) {
        throw new Error(
          `encrypted value uses key id ${keyId}, which no \`secret\` matches: was a secret removed?`,
        );
      }
      const ivBytes = Buffer.from(iv, 'base64url');
      const tagBytes = Buffer.from(tag, 'base64url');
      // A shortened tag would make forgery cheap: accept exactly 96-bit IVs and 128-bit tags.
      if (ivBytes.length !== 12 || tagBytes.length !== 16) throw new Error('encrypted value is malformed');
      const decipher = createDecipheriv('aes-256-gcm', key.enc, ivBytes, { authTagLength: 16 });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    },
    isCurrent: (token) => token.split('.')[1] === current.id,
    hash: (context, value) => mac(current, context, value),
    hashes: (context, value) => keys.map((k) => mac(k, context, value)),
  };
}

/** A random string of `length` characters from `alphabet`, each drawn with crypto.randomInt (unbiased). */
export function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}
