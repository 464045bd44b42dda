import { randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto';

/** What the app keeps about an account (never the password hash). */
export interface User {
  id: string;
  email: string;
  name?: string;
  createdAt: number;
}

interface StoredUser extends User {
  salt: Buffer;
  passwordHash: Buffer;
}

const KEY_LENGTH = 64;
// scrypt's default cost (N = 2^14, r = 8): ~50 ms per hash, fine for a demo and for tests.
const SCRYPT_OPTIONS = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

function hashPassword(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, SCRYPT_OPTIONS, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function toUser({ id, email, name, createdAt }: StoredUser): User {
  return name === undefined ? { id, email, createdAt } : { id, email, name, createdAt };
}

/** Accounts of the example app, in memory: they are gone when the process exits. */
export class UserDirectory {
  readonly #byEmail = new Map<string, StoredUser>();
  readonly #byId = new Map<string, StoredUser>();
  /** Hashed against when an email is unknown, so a login takes as long either way. */
  readonly #decoy = { salt: randomBytes(16), passwordHash: Buffer.alloc(KEY_LENGTH) };

  /** Creates an account; null when the (normalised) email is taken. */
  async create(input: { email: string; password: string; name?: string }): Promise<User | null> {
    if (this.#byEmail.has(input.email)) return null;
    const salt = randomBytes(16);
    const passwordHash = await hashPassword(input.password, salt);
    // Checked again: another sign-up for the same email may have finished while we hashed.
    if (this.#byEmail.has(input.email)) return null;
    const stored: StoredUser = {
      id: randomUUID(),
      email: input.email,
      createdAt: Date.now(),
      salt,
      passwordHash,
    };
    if (input.name !== undefined) stored.name = input.name;
    this.#byEmail.set(stored.email, stored);
    this.#byId.set(stored.id, stored);
    return toUser(stored);
  }

  /** The account when the password is right; null for a wrong password and an unknown email alike. */
  async authenticate(email: string, password: string): Promise<User | null> {
    const stored = this.#byEmail.get(email);
    const { salt, passwordHash } = stored ?? this.#decoy;
    const candidate = await hashPassword(password, salt);
    const match = timingSafeEqual(candidate, passwordHash);
    return stored && match ? toUser(stored) : null;
  }

  get(id: string): User | undefined {
    const stored = this.#byId.get(id);
    return stored && toUser(stored);
  }

  /** The account with this (normalised) email, for account recovery. */
  findByEmail(email: string): User | undefined {
    const stored = this.#byEmail.get(email);
    return stored && toUser(stored);
  }
}
