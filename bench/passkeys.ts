import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { SoftwareAuthenticator } from '../test/helpers/software-authenticator.js';
import { BENCH_ORIGIN } from './protocol.js';
import { type BenchUser, enrolUser, post, Rotation } from './users.js';

/** A passkey user's authenticator and, once prepared, the assertion it will send. */
export interface PasskeyState {
  authenticator: SoftwareAuthenticator;
  /** The `/webauthn/verify/verify` body answering the challenge of the user's current session. */
  body?: string;
  /** When `body` was prepared (ms): challenges expire after 5 minutes, so old ones are prepared again. */
  preparedAt?: number;
}

/** A prepared assertion older than this is not sent (the server's challenges live 5 minutes). */
const FRESH_MS = 4 * 60_000;

const isPrepared = (user: BenchUser, now: number) =>
  user.passkey?.body !== undefined && now - (user.passkey.preparedAt ?? 0) < FRESH_MS;

/**
 * A user with TOTP (bench/users.ts) and a passkey registered through the real routes:
 * POST /webauthn/register/options, then /register/verify with a software authenticator's response
 * (the TOTP confirmation left the session fresh, as adding a second factor requires).
 */
export async function enrolPasskeyUser(base: string, id: string): Promise<BenchUser> {
  const user = await enrolUser(base, id);
  const authenticator = new SoftwareAuthenticator(BENCH_ORIGIN);
  const options = await post(base, '/auth/mfa/webauthn/register/options', {}, user.cookie);
  user.cookie = options.cookie ?? user.cookie;
  const response = authenticator.createCredential(
    options.json as unknown as PublicKeyCredentialCreationOptionsJSON,
  );
  const verify = await post(base, '/auth/mfa/webauthn/register/verify', { response }, user.cookie);
  user.cookie = verify.cookie ?? user.cookie;
  user.passkey = { authenticator };
  return user;
}

/**
 * Hands out passkey users whose assertion is prepared. A verification regenerates the session and
 * uses up its challenge, so each answered user goes to the back unprepared; `prepare` (between runs,
 * outside the measured time) asks the server for new options and signs them.
 */
export class PasskeyRotation extends Rotation {
  protected usable(user: BenchUser) {
    return isPrepared(user, Date.now());
  }
  protected body(user: BenchUser) {
    return user.passkey!.body!;
  }
  protected consume(user: BenchUser) {
    user.passkey!.body = undefined;
  }
  protected keep() {
    return true;
  }
  capacity() {
    const now = Date.now();
    let n = 0;
    for (const user of this.queue) if (!user.lost && isPrepared(user, now)) n++;
    return n;
  }

  /**
   * Makes at least `wanted` users ready (or all there are): POST /webauthn/verify/options on the
   * user's session, then a signed assertion of that challenge. Prepared users go to the front, so
   * every pick finds one.
   */
  async prepare(base: string, wanted: number, concurrency = 16): Promise<void> {
    const now = Date.now();
    const users: BenchUser[] = [];
    for (let user = this.queue.shift(); user !== undefined; user = this.queue.shift()) {
      if (!user.lost) users.push(user);
    }
    const ready = users.filter((u) => isPrepared(u, now));
    const todo = users.filter((u) => !isPrepared(u, now)).slice(0, Math.max(0, wanted - ready.length));
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const user = todo[next++]!;
        const options = await post(base, '/auth/mfa/webauthn/verify/options', {}, user.cookie);
        user.cookie = options.cookie ?? user.cookie;
        const response = user.passkey!.authenticator.getAssertion(
          options.json as unknown as PublicKeyCredentialRequestOptionsJSON,
        );
        user.passkey!.body = JSON.stringify({ response });
        user.passkey!.preparedAt = Date.now();
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
    const front = new Set([...ready, ...todo]);
    for (const user of front) this.queue.push(user);
    for (const user of users) if (!front.has(user)) this.queue.push(user);
  }
}
