// "Lost your second factor?": a recovery code by email, then a limited session that can only set up
// new factors. The session has no signed-in user: it ends with a normal sign-in.
import { ApiError, api, busy, formatTime, hide, showError } from './api.js';
import { bindFactorSetup, confirmPhone, showBackupCodes, startPhoneSetup } from './factor-setup.js';
import { passkeysSupported } from './passkeys.js';

const $ = (id) => document.getElementById(id);
const error = $('error');
const notice = $('notice');
const NAMES = {
  totp: 'authenticator app',
  webauthn: 'passkey',
  sms: 'phone number',
  backup_codes: 'backup codes',
};
let email = '';

async function run(button, fn) {
  hide(error);
  try {
    await busy(button, fn);
  } catch (err) {
    // The recovery session ran out (or never was): start again.
    if (err instanceof ApiError && err.code === 'unauthenticated') return expired();
    showError(error, err);
  }
}

function expired() {
  hide($('recover-enrol'), $('recover-redeem'));
  $('recover-request').hidden = false;
  showError(error, new Error('Your recovery session has ended. Ask for a new code to continue.'));
}

async function requestCode() {
  await api('POST', '/auth/mfa/recovery/start', { email });
  $('recover-sent').textContent =
    `If an account uses ${email}, we have emailed it a recovery code. It works for 15 minutes, once.`;
  $('recover-redeem').hidden = false;
  $('recover-code').value = '';
  $('recover-code').focus();
}

$('recover-email-form').addEventListener('submit', (event) => {
  event.preventDefault();
  email = $('recover-email').value.trim();
  return run($('recover-send'), requestCode);
});

$('recover-again').addEventListener('click', (event) => run(event.currentTarget, requestCode));

$('recover-code-form').addEventListener('submit', (event) => {
  event.preventDefault();
  return run($('recover-submit'), async () => {
    try {
      await api('POST', '/auth/mfa/recovery/complete', { email, code: $('recover-code').value });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_code') $('recover-code').select();
      throw err;
    }
    await showEnrolment();
  });
});

async function showEnrolment() {
  hide($('recover-request'), $('recover-redeem'));
  $('recover-enrol').hidden = false;
  await loadStatus();
}

/** Redraws the enrolment step from the status; false when this is not a recovery session. */
async function loadStatus() {
  const status = await api('GET', '/auth/mfa/');
  if (!status.recovery) return false;
  $('recover-until').textContent = formatTime(status.recovery.until);
  const added = status.factors.filter((f) => f in NAMES).map((f) => NAMES[f]);
  $('recover-factors').textContent = added.length > 0 ? added.join(', ') : 'none';
  $('totp-setup-start').hidden = status.totp.enrolled || !$('totp-setup').hidden;
  $('passkey-add-form').hidden = status.passkeys === undefined || !passkeysSupported();
  return true;
}

bindFactorSetup(run, loadStatus);

$('sms-setup-form').addEventListener('submit', (event) => {
  event.preventDefault();
  return run($('sms-setup-submit'), async () => {
    const phone = await startPhoneSetup();
    notice.textContent = `We texted a code to ${phone}.`;
    notice.hidden = false;
  });
});

$('sms-confirm-form').addEventListener('submit', (event) => {
  event.preventDefault();
  return run($('sms-confirm-submit'), async () => {
    const result = await confirmPhone();
    notice.textContent = `Text message codes now go to ${result.phone}.`;
    showBackupCodes(result.backupCodes);
    await loadStatus();
  });
});

// Done: end the recovery session; the user signs in like any other time.
$('recover-done').addEventListener('click', async () => {
  await api('POST', '/api/logout').catch(() => {});
  location.assign('/');
});

try {
  const features = await api('GET', '/api/features');
  $('sms-card').hidden = !features.sms;
  if (!features.recovery) {
    $('recover-request').hidden = true;
    showError(error, new Error('Account recovery is off here: it needs an email sender to send the code.'));
  } else {
    // A reload during recovery: carry on where the user was.
    const inRecovery = await loadStatus().catch(() => false);
    if (inRecovery) await showEnrolment();
    else $('recover-email').focus();
  }
} catch (err) {
  showError(error, err);
}
