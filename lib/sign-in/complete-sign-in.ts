import type { Request } from 'express';
import type { MfaUser } from '../options.js';
import { type MfaSessionState, regenerateSession, saveSession, skipUnchangedResave } from '../session.js';

export interface SignInHandOver {
  /** The app's `onLogin`. */
  onLogin: (req: Request, userId: string) => void | Promise<void>;
  /** The app's `getUser`, validated. */
  appUser: (req: Request) => MfaUser | undefined;
}

/**
 * Undoes a sign-in that failed after the session was regenerated: express-session would otherwise save
 * the new session at the end of the error answer with whatever `onLogin` had written into it.
 * Everything in it is from this request, so it is emptied, then destroyed; if destroying fails too,
 * an emptied session is all that can be saved.
 */
export async function discardSession(req: Request): Promise<void> {
  const session = req.session as unknown as Record<string, unknown> | undefined;
  if (!session) return;
  for (const key of Object.keys(session)) if (key !== 'cookie') delete session[key];
  await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
}

/**
 * Hands a proven user to the app, the one way every sign-in ends (password alone, a second factor, a
 * first factor enrolled, a trusted device, a passwordless passkey): a new, clean session (the old one
 * was anonymous, pending or someone else's, and its id may have been fixed by an attacker), then
 * `onLogin`, then a check that `getUser` now sees that user, then the MFA state, saved before the
 * caller answers. On any failure nobody is left half signed in.
 */
export async function completeSignIn(
  req: Request,
  userId: string,
  handOver: SignInHandOver,
  state: (req: Request) => MfaSessionState | undefined,
): Promise<void> {
  await regenerateSession(req);
  try {
    await handOver.onLogin(req, userId);
    if (handOver.appUser(req)?.id !== userId) {
      throw new Error('express-mfa: after onLogin(req, userId), getUser(req) must return that user');
    }
    const mfa = state(req);
    if (mfa) req.session.mfa = mfa;
    await saveSession(req);
    skipUnchangedResave(req.session);
  } catch (error) {
    await discardSession(req);
    throw error;
  }
}
