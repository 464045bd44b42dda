import { generateHumanCode, normalizeHumanCode } from '../../human-code.js';

/** Fresh backup codes formatted for humans: `xxxx-xxxx-xxxx-xxxx` (80 bits each). */
export function generateBackupCodes(count: number): string[] {
  return Array.from({ length: count }, generateHumanCode);
}

/** The canonical form of a typed backup code, or null when it cannot be one at all. */
export const normalizeBackupCode = normalizeHumanCode;

/** The context a backup code's hash is bound to, so one user's hash never matches for another. */
export const backupCodeContext = (userId: string) => `backup-code:${userId}`;
