import type { Request } from 'express';
import type { MfaCore } from '../../core.js';
import { keys } from '../../keys.js';
import { isSessionTag, sessionTag } from '../../session-tag.js';

/** The TOTP secret at rest, encrypted; a pending one also says until when and which session made it. */
export interface StoredSecret {
  secret: string;
  createdAt?: number;
  expiresAt?: number;
  /** The session tag of the setup's session (see session-tag.ts): whose page may resume it. */
  session?: string;
}

const setupContext = (userId: string) => `totp-setup:${userId}`;

/** The tag a new pending secret carries. */
export const setupSessionTag = (core: MfaCore, req: Request, userId: string) =>
  sessionTag(core.keyring, setupContext(userId), req.sessionID);

/**
 * The setup this session started and may still confirm, as `{ expiresAt }`. Never the secret: it
 * leaves the server once, in the answer to the setup. Resuming needs no secret: an app that
 * scanned it confirms with its code, and a page that lost it starts a new setup (README, Status).
 */
export async function pendingTotpSetup(
  core: MfaCore,
  req: Request,
  userId: string,
): Promise<{ expiresAt: number } | null> {
  const raw = await core.store.get(keys.totpPending(userId));
  if (raw === null) return null;
  const { expiresAt, session } = JSON.parse(raw) as StoredSecret;
  if (expiresAt === undefined || expiresAt <= core.now()) return null;
  return isSessionTag(core.keyring, setupContext(userId), req.sessionID, session) ? { expiresAt } : null;
}
