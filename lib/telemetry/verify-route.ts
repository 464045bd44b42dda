import type { FactorName } from '../keys.js';

/**
 * The verification routes of the router, by path under its mount point: the requests that prove a
 * factor (and so are worth a span each). Everything else passes untraced.
 */
const VERIFY_ROUTES: Readonly<Record<string, FactorName>> = {
  '/totp/verify': 'totp',
  '/email/verify': 'email',
  '/sms/verify': 'sms',
  '/backup-codes/verify': 'backup_codes',
  '/webauthn/verify/verify': 'webauthn',
  '/webauthn/login/verify': 'webauthn',
};

/** The factor a POST to `path` (relative to the router, query excluded) verifies, or undefined. */
export function verifyRouteFactor(method: string, path: string): FactorName | undefined {
  if (method !== 'POST') return undefined;
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return Object.hasOwn(VERIFY_ROUTES, trimmed) ? VERIFY_ROUTES[trimmed] : undefined;
}
