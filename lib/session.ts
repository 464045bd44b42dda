/// <reference types="express-session" preserve="true" />
// The reference brings in express-session's `req.session` typing, which the declaration below
// extends; an `import type {}` would be dropped from the emitted .d.ts, orphaning the augmentation.
import type { Request } from 'express';
import { MfaError } from './errors.js';
import { fingerprintOf } from './guard/client-fingerprint.js';
import type { FactorName } from './keys.js';
import type { MfaUser } from './options.js';

/** What express-mfa keeps in `req.session.mfa`. Only the server writes it. */
export interface MfaSessionState {
  /** The user this state belongs to; for any other user it counts as empty. */
  userId: string;
  /** When this session last passed a second factor (ms, injected clock). */
  verifiedAt?: number;
  /** Factors used to verify in this session (like OIDC `amr`). */
  methods?: FactorName[];
  /** When each factor last verified in this session (ms): what a guard's `methods` looks at. */
  at?: Partial<Record<FactorName, number>>;
  /**
   * The client each factor last verified from, as a keyed fingerprint (network and User-Agent, never
   * the address itself): what a guard's `sameClient` compares.
   */
  clients?: Partial<Record<FactorName, string>>;
  /** Set on a limited recovery session: it may only enrol factors until `until`. */
  recovery?: { until: number };
  /** The pending passkey ceremony of this user (register or verify); see `PendingChallenge`. */
  challenge?: PendingChallenge;
  /**
   * A sign-in waiting for its second factor (`mfa.signIn` answered `mfa_required`): not signed in;
   * only the status, verify and send routes act for `user`, until `until`.
   */
  pending?: SignInStage;
  /**
   * A sign-in waiting for a first factor (`mfa.signIn` answered `enrol_required`): not signed in;
   * only the enrolment routes act for `user`, until `until`.
   */
  enrol?: SignInStage;
}

/** An unfinished sign-in: who the password identified (as `getUser` would describe them) and until when. */
export interface SignInStage {
  user: MfaUser;
  /** Injected clock, ms. */
  until: number;
}

/**
 * A WebAuthn challenge the server generated for one ceremony. The session binds it to the user and
 * the purpose and says when it expires; single use is decided by a one-time marker in the store,
 * because parallel requests load the same session.
 */
export interface PendingChallenge {
  purpose: 'register' | 'verify' | 'login';
  /** base64url, as sent in the options. */
  challenge: string;
  /** Injected clock, ms. */
  expiresAt: number;
  /** Registration only: the user handle (base64url) the options gave the authenticator. */
  userHandle?: string;
}

declare module 'express-session' {
  interface SessionData {
    mfa?: MfaSessionState;
    /** Passwordless sign-in's challenge: there is no user yet, so it cannot live in `mfa`. */
    mfaLoginChallenge?: PendingChallenge;
  }
}

/** The state for `userId`, or undefined when there is none or it belongs to someone else. */
export function stateFor(req: Request, userId: string): MfaSessionState | undefined {
  const state = req.session?.mfa;
  return state && state.userId === userId ? state : undefined;
}

/** The unfinished sign-in this session holds, judged by the injected clock; expired ones count as none. */
export function signInStage(
  req: Request,
  now: number,
): { stage: 'pending' | 'enrol'; user: MfaUser; until: number } | undefined {
  const state = req.session?.mfa;
  if (state?.pending && now <= state.pending.until) return { stage: 'pending', ...state.pending };
  if (state?.enrol && now <= state.enrol.until) return { stage: 'enrol', ...state.enrol };
  return undefined;
}

/** An active recovery session's user id, judged by the injected clock. */
export function recoveryUserId(req: Request, now: number): string | undefined {
  const state = req.session?.mfa;
  return state?.recovery && now <= state.recovery.until ? state.userId : undefined;
}

const unavailable = () => new MfaError('unavailable', 'The session store is unavailable. Try again shortly.');

function promisify(run: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(unavailable()) : resolve())));
}

/** Saves the session before answering, so a store failure is a 503 rather than a lost write. */
export async function saveSession(req: Request): Promise<void> {
  const session = req.session;
  if (!session) throw unavailable();
  await promisify((done) => session.save(done));
}

/**
 * A new session id with nothing of the old session kept: for a sign-in, where the old session was
 * anonymous or someone else's (a session id fixed by an attacker must not become the signed-in one).
 */
export async function regenerateSession(req: Request): Promise<void> {
  const session = req.session;
  if (!session) throw unavailable();
  await promisify((done) => session.regenerate(done));
}

/**
 * Starts replacing the session with a new, empty one under a new id, without waiting for the old id's
 * destroy: the destroy (a DEL) and the new session's save (a SET) then travel to the store together,
 * one round trip instead of two. The returned `settle(save, alongside)` saves the new session and waits
 * for both, and for `alongside`, store work of the caller's already under way (it shares the round
 * trip); if any of them fails, the new session is emptied and destroyed (nobody keeps a session whose
 * old id may still live, that was never stored, or whose verification's bookkeeping was lost) and the
 * caller gets a 503.
 *
 * Stores without express-session's `generate` (never seen in practice) take the serial path.
 */
export async function beginRegeneration(
  req: Request,
): Promise<(save?: boolean, alongside?: Promise<unknown>) => Promise<void>> {
  const session = req.session;
  if (!session) throw unavailable();
  const store = req.sessionStore as Partial<Express.SessionStore> | undefined;
  if (typeof store?.generate !== 'function' || typeof store.destroy !== 'function') {
    await regenerateSession(req);
    return async (save = true, alongside) => {
      if (save) await failClosed(req, Promise.all([saveSession(req), alongside]));
    };
  }
  const oldId = req.sessionID;
  const destroyed = promisify((done) => store.destroy!(oldId, done));
  destroyed.catch(() => {}); // awaited in settle; never an unhandled rejection meanwhile
  store.generate(req);
  return async (save = true, alongside) => {
    await failClosed(req, save ? Promise.all([destroyed, saveSession(req), alongside]) : destroyed);
  };
}

/** Waits for `work`; on failure drops the new session (see `beginRegeneration`) and answers 503. */
async function failClosed(req: Request, work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch {
    await dropSession(req);
    throw unavailable();
  }
}

/**
 * Empties and destroys the current session, so express-session neither saves it at the end of the
 * answer nor sends its cookie. If destroying fails (and the session was already stored), the emptied
 * session is written over it, so at worst an empty session is left under an id nobody was given.
 */
export async function dropSession(req: Request): Promise<void> {
  const session = req.session as unknown as Record<string, unknown> | undefined;
  if (!session) return;
  for (const key of Object.keys(session)) if (key !== 'cookie') delete session[key];
  const { sessionStore: store, sessionID: id } = req;
  const emptied = req.session;
  await new Promise<void>((resolve) =>
    req.session.destroy((error) => {
      if (!error || typeof store?.set !== 'function') return resolve();
      store.set(id, emptied, () => resolve());
    }),
  );
}

/**
 * The MFA state of a session that `userId` just verified with `method` at `now`: the one place that
 * says what a verification leaves in the session (step-up, sign-in completion, passwordless sign-in).
 * `previous` is this user's state before, whose methods are kept.
 */
export function verifiedState(
  req: Request,
  userId: string,
  method: FactorName,
  now: number,
  previous?: MfaSessionState,
): MfaSessionState {
  const methods = new Set(previous?.methods ?? []);
  methods.add(method);
  const clients = { ...previous?.clients };
  const client = fingerprintOf(req);
  // Without a usable address this verification counts for no `sameClient` guard (fails closed).
  if (client === undefined) delete clients[method];
  else clients[method] = client;
  return { userId, verifiedAt: now, methods: [...methods], at: { ...previous?.at, [method]: now }, clients };
}

/**
 * Marks the session as verified by `method`. The session id is regenerated (an id fixed by an
 * attacker before sign-in must not become an elevated session); the app's own keys are carried over;
 * the answer waits for the save and for the old id's destroy, which go to the store together (see
 * `beginRegeneration`) with `alongside`, so a store failure is a 503, never a silent success.
 */
export async function elevateSession(
  req: Request,
  userId: string,
  method: FactorName,
  now: number,
  alongside?: Promise<unknown>,
): Promise<void> {
  const session = req.session;
  if (!session) throw unavailable();
  const previous = stateFor(req, userId);
  const carried: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(session)) {
    if (key !== 'cookie' && key !== 'mfa') carried[key] = value;
  }
  const maxAge = session.cookie?.originalMaxAge;

  const settle = await beginRegeneration(req);
  const fresh = req.session as unknown as Record<string, unknown>;
  Object.assign(fresh, carried);
  if (typeof maxAge === 'number') req.session.cookie.maxAge = maxAge;
  req.session.mfa = verifiedState(req, userId, method, now, previous);
  await settle(true, alongside);
  skipUnchangedResave(req.session);
}

/**
 * express-session judges "already saved" against the id the request arrived with, so after
 * `regenerate` it saves the session again when the response ends, although nothing changed: one more
 * SET per verification. Skip that save while the session (cookie aside, as express-session's own
 * hash does) is what we just saved; any later change is still saved.
 */
export function skipUnchangedResave(session: Request['session']): void {
  const unchanged = (s: object) => JSON.stringify({ ...s, cookie: undefined });
  const saved = unchanged(session);
  const save = session.save;
  Object.defineProperty(session, 'save', {
    configurable: true,
    enumerable: false,
    writable: true,
    value(this: Request['session'], callback?: (err?: unknown) => void) {
      if (unchanged(this) === saved) {
        callback?.();
        return this;
      }
      return save.call(this, callback);
    },
  });
}
