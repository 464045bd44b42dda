import { api, bindLogout, busy, goBackVerified, hide, safeNext, showError, signInExtras } from './api.js';
import { verifyWithPasskey } from './passkeys.js';

const $ = (id) => document.getElementById(id);
const error = $('error');
const next = safeNext(new URLSearchParams(location.search).get('next'));

bindLogout();
$('verify-cancel').href = next;

function bind(formId, inputId, buttonId, path) {
  $(formId).addEventListener('submit', async (event) => {
    event.preventDefault();
    hide(error);
    try {
      await busy($(buttonId), () => api('POST', path, { code: $(inputId).value, ...signInExtras() }));
      goBackVerified(next);
    } catch (err) {
      showError(error, err);
      $(inputId).select();
    }
  });
}

bind('totp-verify-form', 'totp-verify-code', 'totp-verify-submit', '/auth/mfa/totp/verify');
bind('backup-verify-form', 'backup-verify-code', 'backup-verify-submit', '/auth/mfa/backup-codes/verify');

$('passkey-verify').addEventListener('click', async () => {
  hide(error);
  try {
    await busy($('passkey-verify'), verifyWithPasskey);
    goBackVerified(next);
  } catch (err) {
    showError(error, err);
  }
});

// Recovery by email, for someone who lost every factor listed here (only where it is on).
api('GET', '/api/features')
  .then((features) => {
    $('verify-recover').hidden = !features.recovery;
  })
  .catch(() => {});

try {
  const { factors, signIn } = await api('GET', '/auth/mfa/');
  if (signIn?.stage === 'pending') {
    // The password was right; this page finishes the sign-in.
    $('verify-title').textContent = 'Finish signing in';
    $('verify-lead').textContent =
      'Your account has two-step sign-in: confirm it is you with a second factor.';
    $('remember').hidden = false;
    $('nav-account').hidden = true;
    $('verify-cancel').href = '/';
  }
  const totp = factors.includes('totp');
  const backup = factors.includes('backup_codes');
  const passkey = factors.includes('webauthn');
  $('passkey-section').hidden = !passkey;
  $('totp-section').hidden = !totp;
  $('backup-section').hidden = !backup;
  // Email and SMS codes have their own sections (codes.js); any factor means there is something to offer.
  $('no-factors').hidden = factors.length > 0;
  if (backup && !totp && !passkey) $('backup-details').open = true;
  (totp ? $('totp-verify-code') : passkey ? $('passkey-verify') : $('backup-verify-code')).focus();
} catch (err) {
  if (err.status === 401 && err.code === 'unauthenticated') location.assign('/');
  else showError(error, err);
}
