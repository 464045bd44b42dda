import { readFileSync } from 'node:fs';
import type { Request, Response } from 'express';

const TEMPLATE = readFileSync(new URL('./public/error.html', import.meta.url), 'utf8');

/** What each error page says: a title, a sentence and the way on. */
const PAGES: Record<number, { title: string; message: string; action: string; href: string }> = {
  404: {
    title: 'Page not found',
    message: 'There is no page at this address. It may have moved, or the link may be mistyped.',
    action: 'Go to the start page',
    href: '/',
  },
  500: {
    title: 'Something went wrong',
    message: 'Something went wrong on our side. Please try again.',
    action: 'Try again',
    href: '',
  },
  503: {
    title: 'We are having trouble right now',
    message:
      'Signing in and account pages are unavailable for a moment (our session store is not answering). ' +
      'Nothing was changed. Please try again in a minute.',
    action: 'Try again',
    href: '',
  },
};

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * True for a page a person's browser asked for (a GET or HEAD that prefers HTML), outside the JSON
 * APIs: such a request gets an error page, everything else keeps its JSON error.
 */
export function wantsPage(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (/^\/(api|auth\/mfa)(\/|$)/.test(req.path) || req.path.endsWith('.json')) return false;
  return req.accepts(['json', 'html']) === 'html';
}

/** Sends the styled error page for `status` (404, 503, else the 500 page). */
export function sendErrorPage(res: Response, status: number): void {
  const page = PAGES[status] ?? PAGES[500]!;
  // An empty href reloads the same address: "try again" means this very page.
  const html = TEMPLATE.replaceAll('{{status}}', String(status))
    .replaceAll('{{title}}', escapeHtml(page.title))
    .replaceAll('{{message}}', escapeHtml(page.message))
    .replaceAll('{{action}}', escapeHtml(page.action))
    .replaceAll('{{href}}', escapeHtml(page.href));
  res.status(status).set('Cache-Control', 'no-store').type('html').send(html);
}
