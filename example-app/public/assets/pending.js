// The recovery page's first step (a recovery code emailed), kept in this tab's sessionStorage so a
// reload carries on instead of starting over: before the code is redeemed there is no session for the
// server to describe. What a session has in progress (setups, codes sent) the server's status lists
// instead (`pending`). Each entry belongs to one scope and expires with what it describes; nothing
// here is trusted by the server.
const PREFIX = 'mfa-example:';
let scope = 'anonymous';

/** Entries are per user: another account signed in on this tab never sees them. */
export function setScope(userId) {
  scope = String(userId ?? 'anonymous');
}

const key = (name) => `${PREFIX}${scope}:${name}`;

/** Keeps `value` under `name` until `until` (ms since the epoch). */
export function remember(name, value, until) {
  try {
    sessionStorage.setItem(key(name), JSON.stringify({ value, until }));
  } catch {
    // Storage full or off (private mode): the flow still works, it only forgets on reload.
  }
}

/** The value kept under `name`, unless it expired. */
export function recall(name) {
  try {
    const raw = sessionStorage.getItem(key(name));
    if (!raw) return undefined;
    const { value, until } = JSON.parse(raw);
    if (typeof until === 'number' && Date.now() < until) return value;
  } catch {
    // A damaged entry counts as none.
  }
  forget(name);
  return undefined;
}

export function forget(name) {
  try {
    sessionStorage.removeItem(key(name));
  } catch {}
}
