import type { Keyring } from '../../crypto.js';
import { sessionTag, sessionTags } from '../../session-tag.js';
import type { Channel, CodePurpose } from './code-keys.js';

/** Who a code is for, what for, and where it goes (the normalised address or E.164 number). */
export interface CodeTarget {
  userId: string;
  channel: Channel;
  purpose: CodePurpose;
  destination: string;
}

/** What the code's keyed hash is bound to: all of it must match for the code to redeem. */
const codeContext = (t: CodeTarget, sessionId: string, expiresAt: number) =>
  `code:${t.channel}:${t.purpose}:${t.userId}:${sessionId}:${t.destination}:${expiresAt}`;
/** The same binding without the session, for the session tag. */
const holderContext = (t: CodeTarget, expiresAt: number) =>
  `code:${t.channel}:${t.purpose}:${t.userId}:${t.destination}:${expiresAt}`;
/** `<keyId>.<mac>` -> `<mac>`: both hashes of a record are made with one key, named once. */
const macOf = (hash: string) => hash.slice(hash.indexOf('.') + 1);

/** When the stored code expires (NaN for none or a malformed one). */
export const expiresAtOf = (stored: string | null): number =>
  stored === null ? Number.NaN : Number(stored.slice(0, stored.indexOf('.')));

/**
 * A live code at rest: `<expiresAt>.<keyId>.<code hash>.<session tag>`. The code hash is what a
 * redemption must match; the session tag, over the same binding but not the code, lets the status
 * say which session asked for it (and for which destination) without knowing the code.
 */
export function codeRecords(keyring: Keyring) {
  return {
    create(t: CodeTarget, sessionId: string, code: string, expiresAt: number): string {
      const tag = macOf(sessionTag(keyring, holderContext(t, expiresAt), sessionId));
      return `${expiresAt}.${keyring.hash(codeContext(t, sessionId, expiresAt), code)}.${tag}`;
    },

    /** Every stored form `code` may have under the keys: what a redemption takes. */
    candidates(t: CodeTarget, sessionId: string, code: string, expiresAt: number): string[] {
      const tags = sessionTags(keyring, holderContext(t, expiresAt), sessionId);
      return keyring.hashes(codeContext(t, sessionId, expiresAt), code).flatMap((hash, i) => [
        `${expiresAt}.${hash}.${macOf(tags[i]!)}`,
        // Stored before codes carried a session tag: such a code lives at most `codes.ttlMs`.
        `${expiresAt}.${hash}`,
      ]);
    },

    /** Whether the stored code was sent to `t` for `sessionId` (so that session can redeem it). */
    heldBy(stored: string, t: CodeTarget, sessionId: string): boolean {
      const [expiresAt, keyId, , tag] = stored.split('.');
      if (tag === undefined || keyId === undefined) return false;
      return sessionTags(keyring, holderContext(t, Number(expiresAt)), sessionId).includes(`${keyId}.${tag}`);
    },
  };
}
