// Email and SMS codes on the verify page: ask for a code, then type it in.
import { api, busy, goBackVerified, hide, safeNext, showError, signInExtras } from './api.js';

const $ = (id) => document.getElementById(id);
const error = $('error');
const next = safeNext(new URLSearchParams(location.search).get('next'));

/** Wires one channel's section: `email` or `sms`. */
function bindChannel(channel) {
  const send = $(`${channel}-send`);
  send.addEventListener('click', async () => {
    hide(error);
    try {
      const sent = await busy(send, () => api('POST', `/auth/mfa/${channel}/send`));
      const minutes = Math.max(1, Math.round((sent.expiresAt - Date.now()) / 60_000));
      $(`${channel}-sent`).textContent =
        `We sent a code to ${sent.sentTo}. It works for about ${minutes} minutes.`;
      $(`${channel}-sent`).hidden = false;
      $(`${channel}-verify-form`).hidden = false;
      send.textContent = 'Send a new code';
      $(`${channel}-verify-code`).focus();
    } catch (err) {
      showError(error, err);
    }
  });
  $(`${channel}-verify-form`).addEventListener('submit', async (event) => {
    event.preventDefault();
    hide(error);
    const input = $(`${channel}-verify-code`);
    try {
      await busy($(`${channel}-verify-submit`), () =>
        api('POST', `/auth/mfa/${channel}/verify`, { code: input.value, ...signInExtras() }),
      );
      goBackVerified(next);
    } catch (err) {
      showError(error, err);
      input.select();
    }
  });
}

bindChannel('email');
bindChannel('sms');

try {
  const { factors } = await api('GET', '/auth/mfa/');
  $('email-section').hidden = !factors.includes('email');
  $('sms-section').hidden = !factors.includes('sms');
  if (factors.includes('sms')) {
    const { phone } = await api('GET', '/auth/mfa/sms');
    $('sms-to').textContent = phone ? `ending in ${phone.slice(-4)}` : '';
  }
} catch {
  // verify.js reports load errors; these sections simply stay hidden.
}
