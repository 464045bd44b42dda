import type { Request } from 'express';

/** Longer targets are refused: a real path and query fits, a payload padded to confuse a parser does not. */
export const MAX_RETURN_TO = 2048;

// Characters a path and query may hold once a browser has percent-encoded them (RFC 3986 pchar,
// "/", "?", "#" and "%"). Anything else (spaces, backslashes, control characters, non-ASCII look-alikes
// such as U+2215 DIVISION SLASH or fullwidth solidus) never comes from a genuine link.
const URL_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?#]*$/;

/** Whether one (decoded or raw) form could leave the site when a browser or a page resolves it. */
function leavesSite(form: string): boolean {
  return (
    !form.startsWith('/') ||
    // `//host` is protocol-relative; browsers read `/\host` as `//host` too.
    form.startsWith('//') ||
    form.startsWith('/\\') ||
    form.includes('\\') ||
    // Browsers drop tabs and newlines inside URLs (`/\t/host` becomes `//host`); other controls are no path.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
    /[\u0000-\u001f\u007f]/.test(form)
  );
}

/**
 * The target a page may send the user back to: a path on this site (with its query and fragment),
 * else `'/'`. Refused: anything not starting with a single `/`, protocol-relative `//host`, `/\host`,
 * backslashes, control characters, schemes, characters a browser would have encoded, over-long
 * values, and the same tricks hidden under percent-encoding (`/%2F%2Fhost`, `/%5Chost`, doubly
 * encoded too), since a page may decode the value before it uses it.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO) return '/';
  if (!URL_CHARACTERS.test(value)) return '/';
  let form = value;
  // Each decoding layer must be as harmless as the raw value; no real link is encoded five times over.
  for (let layer = 0; ; layer++) {
    if (leavesSite(form)) return '/';
    if (!form.includes('%')) break;
    if (layer === 5) return '/';
    let decoded: string;
    try {
      decoded = decodeURIComponent(form);
    } catch {
      break; // not valid %-encoding: nothing decodes it further, so this form is the last one
    }
    if (decoded === form) break;
    form = decoded;
  }
  // Last word to the WHATWG URL parser browsers use: resolved against this site, it must stay on it.
  const base = 'http://return-to.invalid';
  try {
    const url = new URL(value, base);
    // Dot segments can fold a path into `//host` (`/.//host`, `/%2e%2e//host`): a page that later
    // navigates to the path alone would leave the site.
    if (url.origin !== base || url.pathname.startsWith('//')) return '/';
  } catch {
    return '/';
  }
  return value;
}

/** `mfa.returnTo(req)`: the validated `returnTo` of the query (a verify page's GET) or of a JSON body. */
export function returnToOf(req: Request): string {
  const fromQuery = req.query?.returnTo;
  if (fromQuery !== undefined) return safeReturnTo(fromQuery);
  return safeReturnTo((req.body as { returnTo?: unknown } | undefined)?.returnTo);
}

/**
 * A verify route's success answer, with the validated `returnTo` echoed when the request sent one,
 * so a page can go back where the guard sent the user from.
 */
export function withReturnTo<T extends object>(req: Request, answer: T): T & { returnTo?: string } {
  const sent = (req.body as { returnTo?: unknown } | undefined)?.returnTo;
  return sent === undefined ? answer : { ...answer, returnTo: safeReturnTo(sent) };
}

/** Where a refused browser is sent: the page, with the original path and query as `returnTo`. */
export function pageLocation(page: string, req: Request): string {
  const separator = page.includes('?') ? '&' : '?';
  return `${page}${separator}returnTo=${encodeURIComponent(safeReturnTo(req.originalUrl))}`;
}
