import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { SessionUser } from './app-session.js';

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
/** The browser half of SimpleWebAuthn, as the UMD bundle its package ships (no bundler here). */
const WEBAUTHN_BROWSER_BUNDLE = join(
  dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')),
  '../dist/bundle/index.umd.min.js',
);

/** No inline script or style anywhere, so the policy can be strict; the QR code is a data: URL. */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Content-Security-Policy':
      "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
  });
  next();
}

/** The pages' scripts and styles, and the passkey library they load: no session needed. */
export function staticFiles(): Router {
  const router = express.Router();
  router.use('/assets', express.static(`${PUBLIC_DIR}assets`, { index: false, maxAge: 0 }));
  // Same origin, so the strict CSP (script-src 'self') allows it.
  router.get('/vendor/simplewebauthn-browser.js', (_req, res) => {
    res.sendFile(WEBAUTHN_BROWSER_BUNDLE);
  });
  return router;
}

/** The pages: plain HTML, whose scripts call the JSON API; each sends the wrong visitors elsewhere. */
export function pages(currentUser: (req: Request) => SessionUser | undefined): Router {
  const page = (file: string, access: 'guest' | 'user' | 'any') => (req: Request, res: Response) => {
    const user = currentUser(req);
    if (access === 'user' && !user) return res.redirect(303, '/');
    if (access === 'guest' && user) return res.redirect(303, '/account');
    res.set('Cache-Control', 'no-store');
    res.sendFile(`${PUBLIC_DIR}${file}`);
  };
  const router = express.Router();
  router.get('/', page('index.html', 'guest'));
  router.get('/account', page('account.html', 'user'));
  // Also for a sign-in waiting for its second factor, which the app does not count as signed in yet.
  router.get('/verify', page('verify.html', 'any'));
  router.get('/sensitive', page('sensitive.html', 'user'));
  // Recovery is for people who cannot finish signing in: signed in or not, and in the recovery session.
  router.get('/recover', page('recover.html', 'any'));
  return router;
}
