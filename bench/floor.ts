import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import express, { type Request, type RequestHandler, type Router } from 'express';
import type { Cluster, Redis } from 'ioredis';
import { base32 } from 'rfc4648';
import { libraryVerifies } from './library-check.js';
import { BENCH_ORIGIN, BENCH_RP_ID } from './protocol.js';
import { stepAt, totpCode } from './totp-code.js';

/**
 * The same-work floor of a TOTP step-up, hand-written without express-mfa: what any implementation on
 * this stack pays for the round trips a verification cannot do without. One request is a JSON POST
 * that loads the session (express-session), reads the user's record (one GET of a value the size of
 * an encrypted TOTP secret), runs one Lua script that reads and writes a key (the atomic check), and
 * replaces the session under a new id, the old id's DEL sent with the new session's SET, answered
 * after both, with a new signed cookie. What it skips is what express-mfa adds: decrypting the secret,
 * checking the code, the attempt limit, the replay rule and the session's MFA state.
 *
 *   POST /bench/floor-verify {code}       the floor verification, for a session of POST /bench/login
 *   POST /bench/floor-totp-verify {code}  the same plus the work no TOTP check can skip: the record
 *                                         parsed, its secret decrypted (AES-256-GCM, the user bound
 *                                         as associated data) and base32-decoded, one HMAC-SHA1 for
 *                                         the current step compared in constant time with the code,
 *                                         and a verification's MFA state (as express-mfa's) in the
 *                                         new session. It proceeds whatever the comparison says: it
 *                                         measures the work, not the verdict.
 *   POST /bench/floor-passkey-verify {response}  floor-verify plus a passkey check: the stored
 *                                         passkey record parsed and the assertion verified by
 *                                         SimpleWebAuthn as express-mfa calls it (401 unless it
 *                                         verifies), and the MFA state. The load generator sends one
 *                                         assertion again and again: the counter is given as 0, as
 *                                         express-mfa gives it, and nothing else keeps state.
 *   POST /bench/floor-passkey-setup {id, publicKey, challenge}  stores the record it checks against
 *                                         (the credential id, its COSE key in base64url, and the
 *                                         challenge the assertion answers)
 *
 * `prepare()` stores the records (once the client is ready).
 */
export function floorRoutes(
  redis: Redis | Cluster,
  signedIn: (req: Request) => { id: string } | undefined,
): { router: Router; prepare: () => Promise<unknown> } {
  const router = express.Router();
  // One record for every user: a GET costs the same whichever key it reads.
  const record = 'bench:floor:record';
  // As large as a stored TOTP record (key id, IV, ciphertext and tag of a 20-byte secret, as JSON).
  const recordValue = JSON.stringify({
    kid: 'k1',
    iv: 'x'.repeat(16),
    data: 'x'.repeat(44),
    tag: 'x'.repeat(22),
  });
  redis.defineCommand('benchFloorCheck', {
    numberOfKeys: 1,
    lua: "local last = redis.call('GET', KEYS[1]); redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000); return last",
  });
  const check = (key: string, value: string) =>
    (
      redis as (Redis | Cluster) & { benchFloorCheck(key: string, value: string): Promise<string | null> }
    ).benchFloorCheck(key, value);

  // A stored TOTP record as express-mfa keeps one: `v1.<key id>.<iv>.<ciphertext>.<tag>`, base64url.
  // Derived from constants, not drawn at random: every bench server process stores the record (the
  // last one wins) and must be able to decrypt the one stored.
  const totpRecord = 'bench:floor:totp-record';
  const derived = (label: string) => createHash('sha256').update(`express-mfa bench floor ${label}`).digest();
  const encryptionKey = derived('key');
  const context = Buffer.from('totp:floor', 'utf8');
  const totpRecordValue = (() => {
    const iv = derived('iv').subarray(0, 12);
    const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
    cipher.setAAD(context);
    const secret = base32.stringify(derived('secret').subarray(0, 20), { pad: false });
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    const parts = [iv, body, cipher.getAuthTag()].map((b) => b.toString('base64url'));
    return JSON.stringify({ secret: ['v1', 'k1', ...parts].join('.'), createdAt: 1_700_000_000_000 });
  })();
  // What a verification records of the client (a keyed hash; express-mfa caches it per client).
  const fingerprint = `k1.${randomBytes(16).toString('base64url')}`;

  /** The current step's 6-digit code for `stored`, and whether `code` equals it (constant time). */
  function checkCode(stored: string, code: string): boolean {
    const [, , iv, body, tag] = (JSON.parse(stored) as { secret: string }).secret.split('.');
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey, Buffer.from(iv!, 'base64url'), {
      authTagLength: 16,
    });
    decipher.setAAD(context);
    decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
    const secret = Buffer.concat([decipher.update(Buffer.from(body!, 'base64url')), decipher.final()]);
    // bench/totp-code.ts: the load generator's RFC 6238 code, which run.ts checks against otplib.
    const key = Buffer.from(base32.parse(secret.toString('utf8'), { loose: true }));
    const expected = totpCode(key, stepAt(Date.now()));
    return code.length === 6 && timingSafeEqual(Buffer.from(expected), Buffer.from(code));
  }

  const passkeyRecord = 'bench:floor:passkey-record';
  /** Whether `response` verifies against the stored passkey record `stored`, as express-mfa checks it. */
  function checkAssertion(stored: string, response: AuthenticationResponseJSON): Promise<boolean> {
    const passkey = JSON.parse(stored) as { id: string; publicKey: string; challenge: string };
    return libraryVerifies(response, {
      challenge: passkey.challenge,
      origin: BENCH_ORIGIN,
      rpId: BENCH_RP_ID,
      id: passkey.id,
      publicKey: Buffer.from(passkey.publicKey, 'base64url'),
    });
  }

  type Kind = 'plain' | 'totp' | 'passkey';
  const records: Record<Kind, string> = { plain: record, totp: totpRecord, passkey: passkeyRecord };
  function verify(kind: Kind): RequestHandler {
    return async (req, res, next) => {
      try {
        const user = signedIn(req);
        const input: unknown = kind === 'passkey' ? req.body?.response : req.body?.code;
        const shaped =
          kind === 'passkey' ? typeof input === 'object' && input !== null : typeof input === 'string';
        if (!user || !shaped) {
          res.status(400).json({ error: 'invalid_request' });
          return;
        }
        const stored = await redis.get(records[kind]);
        if (stored === null) {
          res.status(404).json({ error: 'not_enrolled' });
          return;
        }
        if (kind === 'totp') checkCode(stored, input as string);
        if (kind === 'passkey' && !(await checkAssertion(stored, input as AuthenticationResponseJSON))) {
          res.status(401).json({ error: 'invalid_code' });
          return;
        }
        await check(`bench:floor:check:${user.id}`, randomBytes(4).toString('hex'));
        const store = req.sessionStore;
        const oldId = req.sessionID;
        const destroyed = new Promise<void>((resolve, reject) =>
          store.destroy(oldId, (e) => (e ? reject(e) : resolve())),
        );
        destroyed.catch(() => {});
        store.generate(req);
        const now = Date.now();
        const session = req.session as unknown as Record<string, unknown>;
        session.user = user;
        if (kind !== 'plain') {
          const method = kind === 'totp' ? 'totp' : 'webauthn';
          session.mfa = {
            userId: user.id,
            verifiedAt: now,
            methods: [method],
            at: { [method]: now },
            clients: { [method]: fingerprint },
          };
        } else {
          session.verifiedAt = now;
        }
        const saved = new Promise<void>((resolve, reject) =>
          req.session.save((e) => (e ? reject(e) : resolve())),
        );
        await Promise.all([destroyed, saved]);
        // Saved already: express-session would save the new id again at the end (express-mfa skips that too).
        Object.defineProperty(req.session, 'save', {
          configurable: true,
          writable: true,
          value: (done?: (err?: unknown) => void) => done?.(),
        });
        res.json({ ok: true, verifiedAt: now });
      } catch (error) {
        next(error);
      }
    };
  }
  router.post('/bench/floor-verify', express.json(), verify('plain'));
  router.post('/bench/floor-totp-verify', express.json(), verify('totp'));
  router.post('/bench/floor-passkey-verify', express.json(), verify('passkey'));
  router.post('/bench/floor-passkey-setup', express.json(), async (req, res, next) => {
    try {
      const { id, publicKey, challenge } = req.body ?? {};
      if (![id, publicKey, challenge].every((x) => typeof x === 'string')) {
        res.status(400).json({ error: 'invalid_request' });
        return;
      }
      await redis.set(passkeyRecord, JSON.stringify({ id, publicKey, challenge }));
      res.json({ ok: true });
    } catch (error) {
      next(error);
    }
  });
  const prepare = () => Promise.all([redis.set(record, recordValue), redis.set(totpRecord, totpRecordValue)]);
  return { router, prepare };
}
