import type { Keyring } from './crypto.js';

/**
 * A keyed tag of the session a stored record was made for (a pending TOTP secret, a code sent), so
 * the status can tell this session's records from another's. The session id is a bearer secret: it
 * is never stored, and the tag cannot be turned back into it.
 */
export const sessionTag = (keyring: Keyring, context: string, sessionId: string): string =>
  keyring.hash(`session:${context}`, sessionId);

/** The tag under every key, current first: what a stored tag may be after a rotation of `secret`. */
export const sessionTags = (keyring: Keyring, context: string, sessionId: string): string[] =>
  keyring.hashes(`session:${context}`, sessionId);

/** Whether `tag` was made for `sessionId` in `context`. */
export const isSessionTag = (
  keyring: Keyring,
  context: string,
  sessionId: string,
  tag: string | undefined,
): boolean => typeof tag === 'string' && sessionTags(keyring, context, sessionId).includes(tag);
