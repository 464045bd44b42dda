// "Lost your second factor?": a recovery code by email, then a limited session that can only set up
// new factors. The session has no signed-in user: it ends with a normal sign-in. Each step survives
// a reload: the code step is kept in this tab (pending.js: before the code there is no session for
// the server to describe), the enrolment step, setups in progress included, is the server's status.
import { ApiError, api, busy, formatTime, hide, showError } from './api.js';
import { getFeatures, showDevOutbox } from './dev-outbox.js';
import {
  bindFactorSetup,
  confirmPhone,
  resumePhoneSetup,
  resumeTotpSetup,
  showBackupCodes,
  startPhoneSetup,
} from './factor-setup.js';
import { clearFieldError, holdButton, isLocked, lockedUntil, showFieldError, waitText } from './feedback.js';
import { passkeysSupported } from './passkeys.js';
import { forget, recall, remember, setScope } from './pending.js';

const $ = (id) => document.getElementById(id);
const error = $('error');
const notice = $('notice');
const NAMES = {
  totp: 'authenticator app',
  webauthn: 'passkey',
  sms: 'phone number',
  backup_codes: 'backup codes',
};
/** A recovery code works 15 minutes (recovery.codeTtlMs); sending again waits 30 s. */
const CODE_TTL_MS = 15 * 60_000;
const RESEND_MS = 30_000;
let email = '';
/** The last status of the recovery session (its `pending` resumes a phone being confirmed). */
let lastStatus;

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

function showRedeem(sentAt) {
  $('recover-sent').textContent =
    `If an account uses ${email}, we have emailed it a recovery code. It works for 15 minutes, once.`;
  $('recover-redeem').hidden = false;
  holdButton($('recover-again'), sentAt + RESEND_MS, 'Send a new code');
}

async function requestCode() {
  try {
    await api('POST', '/auth/mfa/recovery/start', { email });
  } catch (err) {
    if (isLocked(err) && err.body?.retryAfter) {
      holdButton($('recover-again'), Date.now() + err.body.retryAfter * 1000, 'Send a new code');
      holdButton($('recover-send'), Date.now() + err.body.retryAfter * 1000);
    }
    if (err.code === 'invalid_request' || isLocked(err))
      return showFieldError($('recover-email'), err.message);
    throw err;
  }
  const sentAt = Date.now();
  remember('recovery', { email, sentAt }, sentAt + CODE_TTL_MS);
  showRedeem(sentAt);
  $('recover-code').value = '';
  $('recover-code').focus();
}

$('recover-email-form').addEventListener('submit', (event) => {
  event.preventDefault();
  clearFieldError($('recover-email'));
  email = $('recover-email').value.trim();
  if (!email) return showFieldError($('recover-email'), 'Enter the email address of your account.');
  return run($('recover-send'), requestCode);
});

$('recover-again').addEventListener('click', (event) => run(event.currentTarget, requestCode));

$('recover-code-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('recover-code');
  clearFieldError(input);
  return run($('recover-submit'), async () => {
    try {
      await api('POST', '/auth/mfa/recovery/complete', { email, code: input.value });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_code') {
        const sent = recall('recovery');
        return showFieldError(
          input,
          sent
            ? 'That recovery code is not right. Check it against the email and try again.'
            : 'That recovery code is not right, or it has expired: send a new one.',
        );
      }
      if (isLocked(err)) {
        return showFieldError(
          input,
          `Too many wrong recovery codes: try again in ${waitText(lockedUntil(err) - Date.now())}.`,
        );
      }
      throw err;
    }
    forget('recovery');
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
  lastStatus = status;
  setScope(`recovery:${status.userId}`);
  $('recover-until').textContent = formatTime(status.recovery.until);
  const added = status.factors.filter((f) => f in NAMES).map((f) => NAMES[f]);
  $('recover-factors').textContent = added.length > 0 ? added.join(', ') : 'none';
  const settingUp = !$('totp-setup').hidden || resumeTotpSetup(status);
  $('totp-setup-start').hidden = status.totp.enrolled || settingUp;
  $('passkey-add-form').hidden = status.passkeys === undefined || !passkeysSupported();
  return true;
}

bindFactorSetup(run, loadStatus);

$('sms-setup-form').addEventListener('submit', (event) => {
  event.preventDefault();
  return run($('sms-setup-submit'), async () => {
    const phone = await startPhoneSetup();
    if (!phone) return;
    notice.textContent = `We texted a code to ${phone}.`;
    notice.hidden = false;
  });
});

$('sms-confirm-form').addEventListener('submit', (event) => {
  event.preventDefault();
  return run($('sms-confirm-submit'), async () => {
    const result = await confirmPhone();
    if (!result) return;
    notice.textContent = `Text message codes now go to ${result.phone}.`;
    notice.hidden = false;
    showBackupCodes(result.backupCodes);
    await loadStatus();
  });
});

// Done: end the recovery session; the user signs in like any other time.
$('recover-done').addEventListener('click', async () => {
  await api('POST', '/api/logout').catch(() => {});
  location.assign('/');
});

showDevOutbox(['nav-outbox', 'recover-outbox']);
try {
  const features = await getFeatures();
  $('sms-card').hidden = !features.sms;
  if (!features.recovery) {
    $('recover-request').hidden = true;
    showError(error, new Error('Account recovery is off here: it needs an email sender to send the code.'));
  } else if (await loadStatus().catch(() => false)) {
    // A reload during recovery: carry on where the user was.
    await showEnrolment();
    if (resumePhoneSetup(lastStatus)) $('sms-confirm-code').focus();
  } else {
    const pending = recall('recovery');
    if (pending) {
      // A reload at step 2: the code already emailed still works; no new send voids it.
      email = pending.email;
      $('recover-email').value = email;
      showRedeem(pending.sentAt);
      $('recover-code').focus();
    } else $('recover-email').focus();
  }
} catch (err) {
  showError(error, err);
}
