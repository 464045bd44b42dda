// Small helpers shared by the pages: JSON calls, error display, step-up redirects.

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** Calls the JSON API. Every state-changing request sends a JSON body (`{}` when empty). */
export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (method !== 'GET') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'Could not reach the server. Check your connection and try again.');
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const message = data?.message ?? `The request failed (HTTP ${res.status}).`;
    throw new ApiError(res.status, data?.error ?? 'http_error', message, data);
  }
  return data;
}

export function showError(el, err) {
  el.textContent = err instanceof Error ? err.message : String(err);
  el.hidden = false;
}

export function hide(...els) {
  for (const el of els) el.hidden = true;
}

/**
 * What a verification adds to its body on the sign-in page: "remember this device" when ticked (the
 * checkbox exists only while a sign-in waits for its second factor).
 */
export function signInExtras() {
  return document.getElementById('remember-device')?.checked ? { rememberDevice: true } : {};
}

/** Runs `fn` with the button disabled, so a double click does not send twice. */
export async function busy(button, fn) {
  button.disabled = true;
  try {
    return await fn();
  } finally {
    button.disabled = false;
  }
}

export function bindLogout() {
  const button = document.getElementById('logout');
  button?.addEventListener('click', async () => {
    await api('POST', '/api/logout').catch(() => {});
    location.assign('/');
  });
}

export function formatTime(ms) {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
