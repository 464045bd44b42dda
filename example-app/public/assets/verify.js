import { api, bindLogout, busy, hide, showError, signInExtras } from './api.js';
import { bindChannel, resumeChannel } from './codes.js';
import { getFeatures, showDevOutbox } from './dev-outbox.js';
import { clearFieldError, codeErrorText, isLocked, lockedUntil, showFieldError } from './feedback.js';
import { verifyWithPasskey } from './passkeys.js';
import { goBackVerified, returnTarget } from './step-up.js';
import { showLock } from './verify-locks.js';

const $ = (id) => document.getElementById(id);
const error = $('error');
const next = returnTarget();

bindLogout();
$('verify-cancel').href = next;
const done = () => goBackVerified(next);

/** Wires a code form: errors under its field, a lock on its section. */
function bind(factor, formId, inputId, buttonId, path) {
  $(formId).addEventListener('submit', async (event) => {
    event.preventDefault();
    hide(error);
    const input = $(inputId);
    clearFieldError(input);
    if (!input.value.trim()) return showFieldError(input, 'Enter the code first.');
    try {
      await busy($(buttonId), () => api('POST', path, { code: input.value, ...signInExtras() }));
      done();
    } catch (err) {
      // A lock is said once, in the section's alert (with the countdown and the other factors).
      if (isLocked(err)) showLock(factor, lockedUntil(err));
      else if (err.code === 'invalid_code') showFieldError(input, codeErrorText(err, { factor }));
      else showError(error, err);
    }
  });
}

bind('totp', 'totp-verify-form', 'totp-verify-code', 'totp-verify-submit', '/auth/mfa/totp/verify');
bind(
  'backup_codes',
  'backup-verify-form',
  'backup-verify-code',
  'backup-verify-submit',
  '/auth/mfa/backup-codes/verify',
);
bindChannel('email', done);
bindChannel('sms', done);

$('passkey-verify').addEventListener('click', async () => {
  hide(error);
  const status = $('passkey-error');
  status.hidden = true;
  try {
    await busy($('passkey-verify'), verifyWithPasskey);
    done();
  } catch (err) {
    if (isLocked(err)) showLock('webauthn', lockedUntil(err));
    status.textContent = err.message;
    status.hidden = false;
  }
});

// Recovery by email, for someone who lost every factor listed here (only where it is on).
getFeatures()
  .then((features) => {
    $('verify-recover').hidden = !features.recovery;
  })
  .catch(() => {});
showDevOutbox(['nav-outbox', 'email-outbox', 'sms-outbox']);

try {
  const { factors, signIn, locks, pending } = await api('GET', '/auth/mfa/');
  if (signIn?.stage === 'pending') {
    // The password was right; this page finishes the sign-in.
    $('verify-title').textContent = 'Finish signing in';
    $('verify-lead').textContent =
      'Your account has two-step sign-in: confirm it is you with a second factor.';
    $('remember').hidden = false;
    $('nav-account').hidden = true;
    $('verify-cancel').href = '/';
  }
  // The number first, so the text message section never shows without it.
  if (factors.includes('sms')) {
    const { phone } = await api('GET', '/auth/mfa/sms');
    $('sms-to').textContent = phone ? `ending in ${phone.slice(-4)}` : '';
  }
  const totp = factors.includes('totp');
  const backup = factors.includes('backup_codes');
  const passkey = factors.includes('webauthn');
  $('passkey-section').hidden = !passkey;
  $('totp-section').hidden = !totp;
  $('backup-section').hidden = !backup;
  $('email-section').hidden = !factors.includes('email');
  $('sms-section').hidden = !factors.includes('sms');
  $('no-factors').hidden = factors.length > 0;
  // Codes this session asked for and has not used: the server says where, until when, and the resend wait.
  resumeChannel('email', pending.emailCode);
  resumeChannel('sms', pending.smsCode);
  // Locks the server remembers (a reload does not forget them): named, counting down, others offered.
  for (const [factor, lock] of Object.entries(locks)) if (lock.locked) showLock(factor, lock.until);
  if (backup && !totp && !passkey) $('backup-details').open = true;
  const first = [$('totp-verify-code'), $('passkey-verify'), $('backup-verify-code')].find(
    (el) => !el.closest('section').hidden && !el.disabled,
  );
  first?.focus();
} catch (err) {
  if (err.status === 401 && err.code === 'unauthenticated') location.assign('/');
  else showError(error, err);
}
