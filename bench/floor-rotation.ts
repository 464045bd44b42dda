import { type BenchUser, post, Rotation } from './users.js';

/** Signed-in sessions for the floor route (bench/floor.ts), one request per user at a time. */
export class FloorRotation extends Rotation {
  /** `requestBody` is what every request sends: a code for the TOTP floors, an assertion for the passkey one. */
  constructor(
    users: BenchUser[],
    private readonly requestBody = '{"code":"123456"}',
  ) {
    super(users);
  }
  protected usable() {
    return true;
  }
  protected body() {
    return this.requestBody;
  }
  protected consume() {}
  protected keep() {
    return true;
  }
  capacity() {
    return Number.POSITIVE_INFINITY;
  }
}

/** `count` users signed in through POST /bench/login, spread over `bases`. */
export async function floorUsers(bases: string[], count: number): Promise<BenchUser[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, n) => {
      const id = `floor-${n}`;
      const login = await post(bases[n % bases.length]!, '/bench/login', { id });
      if (!login.cookie) throw new Error('/bench/login set no cookie');
      return { id, key: Buffer.alloc(0), cookie: login.cookie, lastStep: 0, backupCodes: [] };
    }),
  );
}
