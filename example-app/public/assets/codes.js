// Email and SMS codes on the verify page: ask for a code, then type it in. A code sent survives a
// reload (its form comes back, with the resend countdown), and resending waits instead of failing.
import { api, busy, hide, showError, signInExtras } from './api.js';
import {
  clearFieldError,
  codeErrorText,
  holdButton,
  isLocked,
  lockedUntil,
  showFieldError,
} from './feedback.js';
import { forget, recall, remember } from './pending.js';
import { showLock } from './verify-locks.js';

const $ = (id) => document.getElementById(id);
const error = $('error');
/** The server's resend cooldown (30 s): the button counts it down. */
const RESEND_MS = 30_000;

function showSent(channel, sent) {
  const minutes = Math.max(1, Math.round((sent.expiresAt - Date.now()) / 60_000));
  $(`${channel}-sent`).textContent =
    `We sent a code to ${sent.sentTo}. It works for about ${minutes} minutes.`;
  $(`${channel}-sent`).hidden = false;
  $(`${channel}-verify-form`).hidden = false;
  $(`${channel}-verify-code`).dataset.expiresAt = String(sent.expiresAt);
  holdButton($(`${channel}-send`), sent.sentAt + RESEND_MS, 'Send a new code');
}

/** After a reload: the code this tab asked for, if it still works. */
export function resumeChannel(channel) {
  if ($(`${channel}-section`).hidden) return;
  const sent = recall(`${channel}-code`);
  if (sent) showSent(channel, sent);
}

/** Wires one channel's section: `email` or `sms`; `done()` runs after a successful verification. */
export function bindChannel(channel, done) {
  const send = $(`${channel}-send`);
  const factor = channel;
  send.addEventListener('click', async () => {
    hide(error);
    const status = $(`${channel}-sent`);
    try {
      const sent = {
        ...(await busy(send, () => api('POST', `/auth/mfa/${channel}/send`))),
        sentAt: Date.now(),
      };
      remember(`${channel}-code`, sent, sent.expiresAt);
      showSent(channel, sent);
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
      forget(`${channel}-code`);
      done();
    } catch (err) {
      // A lock is said once, in the section's alert (with the countdown and the other factors).
      if (isLocked(err)) showLock(factor, lockedUntil(err));
      else if (err.code === 'invalid_code') {
        const sent = recall(`${channel}-code`);
        // Expired ones are forgotten by recall: a sent code with no entry left has run out.
        const expiresAt =
          sent?.expiresAt ?? (input.dataset.expiresAt ? Number(input.dataset.expiresAt) : undefined);
        showFieldError(input, codeErrorText(err, { factor, expiresAt }));
      } else showError(error, err);
    }
  });
}
