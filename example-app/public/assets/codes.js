// Email and SMS codes on the verify page: ask for a code, then type it in. A code sent survives a
// reload (the server's status lists it: its form comes back, with the server's resend countdown), and
// resending waits instead of failing.
import { api, busy, hide, showError, signInExtras } from './api.js';
import {
  clearFieldError,
  codeErrorText,
  holdButton,
  isLocked,
  lockedUntil,
  showFieldError,
} from './feedback.js';
import { showLock } from './verify-locks.js';

const $ = (id) => document.getElementById(id);
const error = $('error');

/** A code sent, as a send answers or the status lists it: `{ sentTo, expiresAt, resendAfter }`. */
function showSent(channel, sent) {
  const minutes = Math.max(1, Math.round((sent.expiresAt - Date.now()) / 60_000));
  $(`${channel}-sent`).textContent =
    `We sent a code to ${sent.sentTo}. It works for about ${minutes} minutes.`;
  $(`${channel}-sent`).hidden = false;
  $(`${channel}-verify-form`).hidden = false;
  $(`${channel}-verify-code`).dataset.expiresAt = String(sent.expiresAt);
  // `resendAfter` is the server's wait in seconds (its cooldown, or its hourly limit once spent).
  holdButton($(`${channel}-send`), Date.now() + sent.resendAfter * 1000, 'Send a new code');
}

/** After a reload: the code this session asked for (the status's `pending`), if it still works. */
export function resumeChannel(channel, sent) {
  if ($(`${channel}-section`).hidden || !sent) return;
  showSent(channel, sent);
}

/** Wires one channel's section: `email` or `sms`; `done()` runs after a successful verification. */
export function bindChannel(channel, done) {
  const send = $(`${channel}-send`);
  const factor = channel;
  send.addEventListener('click', async () => {
    hide(error);
    const status = $(`${channel}-sent`);
    try {
      showSent(channel, await busy(send, () => api('POST', `/auth/mfa/${channel}/send`)));
      $(`${channel}-verify-code`).value = '';
      $(`${channel}-verify-code`).focus();
    } catch (err) {
      if (isLocked(err) && err.body?.retryAfter) {
        // Sent a moment ago (or too often this hour): count down instead of failing again.
        holdButton(send, Date.now() + err.body.retryAfter * 1000);
        status.textContent = err.message;
        status.hidden = false;
      } else showError(error, err);
    }
  });
  $(`${channel}-verify-form`).addEventListener('submit', async (event) => {
    event.preventDefault();
    hide(error);
    const input = $(`${channel}-verify-code`);
    clearFieldError(input);
    if (!input.value.trim()) return showFieldError(input, 'Enter the code first.');
    try {
      await busy($(`${channel}-verify-submit`), () =>
        api('POST', `/auth/mfa/${channel}/verify`, { code: input.value, ...signInExtras() }),
      );
      done();
    } catch (err) {
      // A lock is said once, in the section's alert (with the countdown and the other factors).
      if (isLocked(err)) showLock(factor, lockedUntil(err));
      else if (err.code === 'invalid_code') {
        const expiresAt = input.dataset.expiresAt ? Number(input.dataset.expiresAt) : undefined;
        showFieldError(input, codeErrorText(err, { factor, expiresAt }));
      } else showError(error, err);
    }
  });
}
