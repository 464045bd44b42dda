// Step-up in one place: leaving for the verify page when the guard says no, coming back, and running
// the blocked action again by itself. The return path travels in the `next` query parameter; the
// action to resume travels in sessionStorage, never in the address, so a link from another site
// cannot make a page run a sensitive action on its own.
import { ApiError, busy, hide, showError } from './api.js';

/** The verify page's query parameter holding where to go back to (the guard's pages use `returnTo`). */
const RETURN_PARAM = 'next';
const INTENT_KEY = 'mfa-example:resume';
/** A resume older than this is stale: the user went elsewhere meanwhile. */
const INTENT_TTL_MS = 10 * 60_000;

/** True when the guard asks for a (fresh) second factor. */
export function needsStepUp(err) {
  return err instanceof ApiError && (err.code === 'mfa_required' || err.code === 'mfa_expired');
}

/** A same-site path to return to, never another origin (`//evil.example` is not a path). */
export function safeNext(value, fallback = '/account') {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) {
    return fallback;
  }
  return value;
}

/**
 * Where the verify page goes back to: `next`, or `returnTo` as the guard's browser redirect
 * (`pages.verify`) names it, so either way of arriving comes back.
 */
export const returnTarget = () => {
  const query = new URLSearchParams(location.search);
  return safeNext(query.get(RETURN_PARAM) ?? query.get('returnTo'));
};

/**
 * Goes to the verify page, which comes back to `next`; `action` (with its `data`) is what the page
 * runs again once verified.
 */
export function goToVerify(next = location.pathname, action, data) {
  if (action) {
    sessionStorage.setItem(INTENT_KEY, JSON.stringify({ path: next, action, data, at: Date.now() }));
  }
  location.assign(`/verify?${RETURN_PARAM}=${encodeURIComponent(next)}`);
}

/** From the verify page back to `next`, flagged so that page can say it worked and resume. */
export function goBackVerified(next) {
  const url = new URL(next, location.origin);
  url.searchParams.set('verified', '1');
  location.assign(url.pathname + url.search + url.hash);
}

/**
 * After the verify page sent us back: shows "verified" in `el`, tidies the address bar and answers
 * the action to resume on this page (`{ action, data }`), if one was left here.
 */
export function takeResume(el) {
  const url = new URL(location.href);
  const raw = sessionStorage.getItem(INTENT_KEY);
  if (url.searchParams.get('verified') !== '1') return undefined;
  url.searchParams.delete('verified');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
  if (el) {
    el.textContent = 'Verified. You can continue.';
    el.hidden = false;
  }
  sessionStorage.removeItem(INTENT_KEY);
  const intent = raw ? JSON.parse(raw) : undefined;
  if (!intent || intent.path !== url.pathname || Date.now() - intent.at > INTENT_TTL_MS) return undefined;
  return { action: intent.action, data: intent.data };
}

/**
 * Runs a page's action with its button disabled and shows what went wrong in `errorEl`; when it needs
 * a fresh second factor, `stepUp(err)` may confirm it inline; else the verify page, which
 * comes back to `returnTo` and runs `action` again.
 */
export async function runAction(
  errorEl,
  button,
  fn,
  { returnTo = location.pathname, action, data, stepUp } = {},
) {
  hide(errorEl);
  try {
    await busy(button, fn);
  } catch (err) {
    if (needsStepUp(err)) {
      // Inline: true verified (run it again, once), null closed (do nothing), false: the verify page.
      const inline = stepUp ? await stepUp(err) : false;
      if (inline === true) return runAction(errorEl, button, fn, { returnTo, action, data });
      if (inline === null) return;
      return goToVerify(returnTo, action, data);
    }
    showError(errorEl, err);
  }
}
