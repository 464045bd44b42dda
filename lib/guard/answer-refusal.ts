import type { NextFunction, Request, Response } from 'express';
import type { MfaError } from '../errors.js';
import { sendError } from '../http.js';
import type { OnRequired, PagesOptions } from './guard-options.js';
import { pageLocation } from './return-to.js';

/**
 * Whether a refused request is a browser navigating to a page, which should see the verify page
 * rather than JSON: a GET or HEAD that prefers HTML to JSON, and not a script's request (XHR sends
 * `X-Requested-With`; fetch sends `Sec-Fetch-Mode` other than `navigate`).
 */
export function wantsPage(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (req.get('x-requested-with') !== undefined) return false;
  const mode = req.get('sec-fetch-mode');
  if (mode !== undefined && mode !== 'navigate') return false;
  return req.accepts(['json', 'html']) === 'html';
}

export interface RefusalAnswers {
  onRequired: OnRequired | undefined;
  pages: Required<PagesOptions> | undefined;
}

/**
 * Answers a guard's refusal: the app's `onRequired` when it has one; else a 303 to the verify (or
 * enrol) page for a browser navigation when `pages` is set; else the JSON error.
 */
export function answerRefusal(
  req: Request,
  res: Response,
  next: NextFunction,
  error: MfaError,
  { onRequired, pages }: RefusalAnswers,
): void {
  if (onRequired) {
    try {
      const result = onRequired(req, res, error);
      if (result && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, next);
      }
    } catch (thrown) {
      next(thrown);
    }
    return;
  }
  if (pages) {
    // The same URL answers HTML or JSON by Accept: caches must keep them apart.
    res.vary('Accept');
    const page =
      error.code === 'not_enrolled'
        ? pages.enrol
        : error.code === 'mfa_required' || error.code === 'mfa_expired'
          ? pages.verify
          : undefined;
    if (page !== undefined && wantsPage(req)) {
      res.set('Cache-Control', 'no-store');
      res.redirect(303, pageLocation(page, req));
      return;
    }
  }
  sendError(res, error);
}
