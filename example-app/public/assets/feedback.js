// Errors beside the field they concern, announced to screen readers, and wording that says what
// happened: a wrong code, an expired one, or a factor locked for a while (with a live countdown).
import { ApiError } from './api.js';

/** How the pages name each factor. */
export const FACTOR_NAMES = {
  totp: 'authenticator app',
  webauthn: 'passkeys',
  sms: 'text messages',
  email: 'email codes',
  backup_codes: 'backup codes',
};

/** The element under `input` that describes its error (created on first use). */
function errorElementOf(input) {
  const id = `${input.id}-error`;
  let el = document.getElementById(id);
  if (!el) {
    el = document.createElement('p');
    el.id = id;
    el.className = 'field-error';
    // Polite, not assertive: the field keeps focus and the reader says the sentence after it.
    el.setAttribute('aria-live', 'polite');
    el.hidden = true;
    (input.closest('label') ?? input).after(el);
  }
  const described = new Set((input.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean));
  described.add(id);
  input.setAttribute('aria-describedby', [...described].join(' '));
  return el;
}

/** Shows `message` under `input`, marks the input invalid and selects what was typed. */
export function showFieldError(input, message) {
  const el = errorElementOf(input);
  el.textContent = message;
  el.hidden = false;
  input.setAttribute('aria-invalid', 'true');
  input.focus();
  input.select?.();
}

export function clearFieldError(input) {
  const el = document.getElementById(`${input.id}-error`);
  if (el) {
    el.hidden = true;
    el.textContent = '';
  }
  input.removeAttribute('aria-invalid');
}

/** "14 minutes", "1 minute", "less than a minute": the wait a person plans around. */
export function waitText(ms) {
  const minutes = Math.ceil(ms / 60_000);
  if (ms < 60_000) return `${Math.max(1, Math.ceil(ms / 1000))} seconds`;
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/** When a 429 ends (`retryAfter` is in whole seconds). */
export const lockedUntil = (err) => Date.now() + (Number(err.body?.retryAfter) || 60) * 1000;

export const isLocked = (err) => err instanceof ApiError && err.code === 'too_many_attempts';

/**
 * The sentence for a refused code: wrong, expired (when the page knows the code's expiry) or locked.
 * The server answers wrong, expired and used codes alike; only the page knows when a code it asked
 * for runs out.
 */
export function codeErrorText(err, { factor, expiresAt } = {}) {
  if (isLocked(err)) {
    const name = FACTOR_NAMES[factor] ?? 'this factor';
    return `Too many wrong codes: ${name} locked for ${waitText(lockedUntil(err) - Date.now())}.`;
  }
  if (err instanceof ApiError && err.code === 'invalid_code') {
    if (expiresAt && Date.now() >= expiresAt) return 'This code has expired. Send a new one and use that.';
    // An app's code passes once: the one just used (e.g. to set the app up) needs its successor.
    if (factor === 'totp')
      return 'That code is not right, or was just used. Type the next code the app shows.';
    return 'That code is not right. Check it and try again.';
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Counts down to `until` in `el` with `render(text)`, once a second; calls `done()` at the end.
 * Returns a function that stops it.
 */
export function countdown(el, until, render, done) {
  const tick = () => {
    const left = until - Date.now();
    if (left <= 0) {
      clearInterval(timer);
      done?.();
      return;
    }
    el.textContent = render(waitText(left), left);
  };
  const timer = setInterval(tick, 1000);
  tick();
  return () => clearInterval(timer);
}

/**
 * Keeps `button` disabled until `until`, its label counting down ("Send a new code (0:25)"), instead
 * of letting a press fail with "wait".
 */
export function holdButton(button, until, label = button.dataset.label ?? button.textContent) {
  button.dataset.label = label;
  button.stop?.();
  const seconds = () => Math.max(0, Math.ceil((until - Date.now()) / 1000));
  const show = () => {
    const s = seconds();
    button.textContent = `${label} (${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')})`;
  };
  if (seconds() <= 0) return;
  button.disabled = true;
  button.dataset.held = '1';
  show();
  const timer = setInterval(() => {
    if (seconds() > 0) return show();
    clearInterval(timer);
    button.disabled = false;
    delete button.dataset.held;
    button.textContent = label;
  }, 1000);
  button.stop = () => clearInterval(timer);
}
