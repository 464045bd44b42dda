import { randomBytes } from 'node:crypto';
import express, { type Request, type Router } from 'express';
import type { Cluster, Redis } from 'ioredis';

/**
 * The same-work floor of a TOTP step-up, hand-written without express-mfa: what any implementation on
 * this stack pays for the round trips a verification cannot do without. One request is a JSON POST
 * that loads the session (express-session), reads the user's record (one GET of a value the size of
 * an encrypted TOTP secret), runs one Lua script that reads and writes a key (the atomic check), and
 * replaces the session under a new id, the old id's DEL sent with the new session's SET, answered
 * after both, with a new signed cookie. What it skips is what express-mfa adds: decrypting the secret,
 * checking the code, the attempt limit, the replay rule and the session's MFA state.
 *
 *   POST /bench/floor-verify {code} the floor verification, for a session of POST /bench/login
 *
 * `prepare()` stores the record (once the client is ready).
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
  const prepare = () => redis.set(record, recordValue);
  const check = (key: string, value: string) =>
    (
      redis as (Redis | Cluster) & { benchFloorCheck(key: string, value: string): Promise<string | null> }
    ).benchFloorCheck(key, value);

  router.post('/bench/floor-verify', express.json(), async (req, res, next) => {
    try {
      const user = signedIn(req);
      const code: unknown = req.body?.code;
      if (!user || typeof code !== 'string') {
        res.status(400).json({ error: 'invalid_request' });
        return;
      }
      if ((await redis.get(record)) === null) {
        res.status(404).json({ error: 'not_enrolled' });
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
      (req.session as unknown as { user: { id: string }; verifiedAt: number }).user = user;
      (req.session as unknown as { verifiedAt: number }).verifiedAt = Date.now();
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
      res.json({ ok: true, verifiedAt: Date.now() });
    } catch (error) {
      next(error);
    }
  });
  return { router, prepare };
}
