import type { Request } from 'express';
import type { MfaUser } from '../options.js';
import { beginRegeneration, dropSession, type MfaSessionState, skipUnchangedResave } from '../session.js';

export interface SignInHandOver {
  /** The app's `onLogin`. */
  onLogin: (req: Request, userId: string) => void | Promise<void>;
  /** The app's `getUser`, validated. */
  appUser: (req: Request) => MfaUser | undefined;
}

/**
 * Hands a proven user to the app, the one way every sign-in ends (password alone, a second factor, a
 * first factor enrolled, a trusted device, a passwordless passkey): a new, clean session (the old one
 * was anonymous, pending or someone else's, and its id may have been fixed by an attacker), then
 * `onLogin`, then a check that `getUser` now sees that user, then the MFA state, saved before the
 * caller answers. The old id's destroy goes to the store with the new session's save and `alongside`
 * (the caller's own store work, already under way): one round trip, all awaited. On any failure
 * nobody is left half signed in.
 */
export async function completeSignIn(
  req: Request,
  userId: string,
  handOver: SignInHandOver,
  state: (req: Request) => MfaSessionState | undefined,
  alongside?: Promise<unknown>,
): Promise<void> {
  const settle = await beginRegeneration(req);
  try {
    await handOver.onLogin(req, userId);
    if (handOver.appUser(req)?.id !== userId) {
      throw new Error('express-mfa: after onLogin(req, userId), getUser(req) must return that user');
    }
    const mfa = state(req);
    if (mfa) req.session.mfa = mfa;
  } catch (error) {
    // The old id still dies (waited for), and nothing of this attempt is kept.
    await settle(false).catch(() => {});
    await dropSession(req);
    throw error;
  }
  await settle(true, alongside);
  skipUnchangedResave(req.session);
}
