// "Confirm it's you" without leaving the page: when an account change needs a fresh second factor and
// a code can do it (the authenticator app, or an email code for a user whose only factor is their
// address), a dialog asks for it right there and the change goes on. Anything else goes to the verify page.
import { api, busy } from './api.js';
import { clearFieldError, codeErrorText, holdButton, isLocked, showFieldError } from './feedback.js';

const $ = (id) => document.getElementById(id);

/** The email code this session already asked for (the status's `pending`), so reopening finds it. */
const pendingEmailCode = () =>
  api('GET', '/auth/mfa/').then(
    (status) => status.pending?.emailCode ?? null,
    () => null,
  );

/**
 * Resolves to true once the dialog verified the session, false when it cannot help or the user asks for
 * another way (the verify page), null when the user closed it. `err.body.factors` is what the guard
 * said the user can use.
 */
export async function confirmInline(err) {
  const factors = err.body?.factors ?? [];
  const method = factors.includes('totp') ? 'totp' : factors.includes('email') ? 'email' : undefined;
  if (!method) return false;
  const dialog = $('step-up');
  const form = $('step-up-form');
  const input = $('step-up-code');
  const send = $('step-up-send');
  const sent = $('step-up-sent');
  input.value = '';
  clearFieldError(input);
  $('step-up-label').textContent =
    method === 'totp' ? '6-digit code from your authenticator app' : 'Code from the email';
  $('step-up-lead').textContent =
    method === 'totp'
      ? 'This change needs a recent second factor: enter a code from your authenticator app.'
      : 'This change needs a recent second factor. We email a code to the address on your account.';
  send.hidden = method !== 'email';
  const pending = method === 'email' ? await pendingEmailCode() : null;
  form.hidden = method === 'email' && !pending;
  sent.textContent = pending ? `We sent a code to ${pending.sentTo}.` : '';
  // The server's wait before another send (`resendAfter`, seconds), not a guess of the page's.
  if (pending) holdButton(send, Date.now() + pending.resendAfter * 1000, 'Email me a new code');
  let expiresAt = pending?.expiresAt;

  return new Promise((resolve) => {
    const abort = new AbortController();
    const finish = (ok) => {
      abort.abort();
      if (dialog.open) dialog.close();
      resolve(ok);
    };
    send.addEventListener(
      'click',
      async () => {
        try {
          const result = await busy(send, () => api('POST', '/auth/mfa/email/send'));
          expiresAt = result.expiresAt;
          sent.textContent = `We sent a code to ${result.sentTo}. It works for about ${Math.round((result.expiresAt - Date.now()) / 60_000)} minutes.`;
          form.hidden = false;
          holdButton(send, Date.now() + result.resendAfter * 1000, 'Email me a new code');
          input.focus();
        } catch (e) {
          if (isLocked(e) && e.body?.retryAfter) holdButton(send, Date.now() + e.body.retryAfter * 1000);
          sent.textContent = e.message;
        }
      },
      { signal: abort.signal },
    );
    form.addEventListener(
      'submit',
      async (event) => {
        event.preventDefault();
        clearFieldError(input);
        try {
          await busy($('step-up-submit'), () =>
            api('POST', `/auth/mfa/${method}/verify`, { code: input.value }),
          );
          finish(true);
        } catch (e) {
          showFieldError(input, codeErrorText(e, { factor: method, expiresAt }));
        }
      },
      { signal: abort.signal },
    );
    $('step-up-other').addEventListener(
      'click',
      (event) => {
        event.preventDefault();
        finish(false);
      },
      { signal: abort.signal },
    );
    $('step-up-cancel').addEventListener('click', () => finish(null), { signal: abort.signal });
    dialog.addEventListener('cancel', () => finish(null), { signal: abort.signal });
    dialog.showModal();
    (form.hidden ? send : input).focus();
  });
}
