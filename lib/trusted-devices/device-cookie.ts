import type { Request, Response } from 'express';

/** The value of cookie `name` in the request, without a cookie parser (the app may not have one). */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    // Our tokens are base64url: anything else in this cookie is not ours and counts as none.
    return /^[A-Za-z0-9_-]{16,64}$/.test(value) ? value : undefined;
  }
  return undefined;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Secure everywhere but plain-http development on this machine: browsers drop Secure cookies over
 * http, and http://localhost is where a developer tries the flow first.
 */
function secure(req: Request): boolean {
  if (req.secure) return true;
  const host = req.hostname ?? '';
  return !(LOCAL_HOSTS.has(host) || host.endsWith('.localhost'));
}

/** Sets the device cookie: HttpOnly (no script reads it), SameSite=Lax, for `maxAgeMs`. */
export function setDeviceCookie(req: Request, res: Response, name: string, token: string, maxAgeMs: number) {
  const attributes = [
    `${name}=${token}`,
    'Path=/',
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
    'HttpOnly',
    'SameSite=Lax',
  ];
  if (secure(req)) attributes.push('Secure');
  res.append('Set-Cookie', attributes.join('; '));
}

export function clearDeviceCookie(req: Request, res: Response, name: string) {
  const attributes = [`${name}=`, 'Path=/', 'Max-Age=0', 'HttpOnly', 'SameSite=Lax'];
  if (secure(req)) attributes.push('Secure');
  res.append('Set-Cookie', attributes.join('; '));
}
