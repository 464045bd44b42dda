// The setup steps the account page and the recovery page share: an authenticator app, a passkey, a
// phone for text message codes, and the backup codes a first factor brings. Both pages use the same
// element ids. Steps in progress survive a reload because the server's status lists them (`pending`):
// an authenticator app being added (confirmed with its code; the QR code itself is shown only once)
// and the phone waiting for its code.
import { api, formatTime } from './api.js';
import { clearFieldError, codeErrorText, holdButton, isLocked, showFieldError } from './feedback.js';
import { addPasskey } from './passkeys.js';

const $ = (id) => document.getElementById(id);

/**
 * Wires the authenticator app setup, "add a passkey" and the backup codes panel: `run(button, fn,
 * action)` runs each step the page's way (`action` names it for resuming after step-up), and
 * `reload()` redraws the page after a factor was added.
 */
export function bindFactorSetup(run, reload) {
  $('totp-setup-start').addEventListener('click', (event) =>
    run(event.currentTarget, startTotpSetup, 'totp-setup'),
  );
  // After a reload the QR code is gone (the server shows a secret once): a new setup shows a new one.
  $('totp-restart').addEventListener('click', (event) =>
    run(event.currentTarget, startTotpSetup, 'totp-setup'),
  );
  $('totp-confirm-form').addEventListener('submit', (event) => {
    event.preventDefault();
    return run($('totp-confirm'), async () => {
      await confirmTotpSetup();
      await reload();
    });
  });
  $('passkey-add-form').addEventListener('submit', (event) => {
    event.preventDefault();
    return run($('passkey-add'), async () => {
      await addNamedPasskey();
      await reload();
    });
  });
  $('totp-secret-copy').addEventListener('click', () =>
    copy($('totp-secret').dataset.secret, $('totp-copy-feedback'), 'Key copied.'),
  );
  bindBackupCodes();
}

/** Copies `text` and says so in `feedback` (a status line). */
async function copy(text, feedback, done) {
  try {
    await navigator.clipboard.writeText(text);
    feedback.textContent = done;
  } catch {
    feedback.textContent = 'Copying is blocked in this browser: select the text and copy it yourself.';
  }
}

// --- Backup codes ---------------------------------------------------------------------------------

let shownCodes = [];
/** While codes are on screen, leaving the page (reload, close, back) asks first: they are shown once. */
const warnBeforeLeaving = (event) => {
  event.preventDefault();
  event.returnValue = '';
};

function bindBackupCodes() {
  $('backup-codes-done').addEventListener('click', () => {
    shownCodes = [];
    $('backup-codes').replaceChildren();
    $('backup-codes-panel').hidden = true;
    $('backup-codes-feedback').textContent = '';
    removeEventListener('beforeunload', warnBeforeLeaving);
  });
  $('backup-codes-copy').addEventListener('click', () =>
    copy(codesText(), $('backup-codes-feedback'), 'Copied: paste them into your password manager.'),
  );
  $('backup-codes-download').addEventListener('click', () => {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([codesText()], { type: 'text/plain' }));
    link.download = `${location.hostname}-backup-codes.txt`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    $('backup-codes-feedback').textContent = 'Downloaded as a text file.';
  });
  // The print style sheet prints only this panel.
  $('backup-codes-print').addEventListener('click', () => print());
}

function codesText() {
  return [
    `Backup codes for ${location.host} (express-mfa example), created ${new Date().toLocaleString()}.`,
    'Each code works once.',
    '',
    ...shownCodes,
    '',
  ].join('\n');
}

/** Shows backup codes, once; `codes` is absent when the step brought none. */
export function showBackupCodes(codes) {
  if (!codes) return;
  shownCodes = codes;
  $('backup-codes').replaceChildren(
    ...codes.map((code) => {
      const li = document.createElement('li');
      li.textContent = code;
      return li;
    }),
  );
  $('backup-codes-panel').hidden = false;
  addEventListener('beforeunload', warnBeforeLeaving);
  $('backup-codes-panel').scrollIntoView({ block: 'start' });
  $('backup-codes-title').focus();
}

// --- Authenticator app ----------------------------------------------------------------------------

/** Asks for a new authenticator app secret and shows it, as a QR code, a link and as text. */
async function startTotpSetup() {
  const setup = await api('POST', '/auth/mfa/totp/setup');
  showTotpSetup(setup);
  $('totp-code').value = '';
  $('totp-code').focus();
}

function showTotpSetup({ secret, uri, qrCode }) {
  $('totp-qr').src = qrCode;
  // Groups of four are easier to type on a phone; the copy button copies it without spaces.
  $('totp-secret').textContent = secret
    .replace(/=+$/, '')
    .match(/.{1,4}/g)
    .join(' ');
  $('totp-secret').dataset.secret = secret;
  $('totp-uri').href = uri;
  $('totp-copy-feedback').textContent = '';
  $('totp-scan').hidden = false;
  $('totp-resume').hidden = true;
  $('totp-setup').hidden = false;
  $('totp-setup-start').hidden = true;
}

/**
 * After a reload: the setup this session started (`status.pending.totpSetup`), if it is still open.
 * The server never shows its secret again, so the page asks for the code of the app that scanned it,
 * or offers a new QR code. Returns whether a setup is shown.
 */
export function resumeTotpSetup(status) {
  const pending = status.pending?.totpSetup;
  if (status.totp.enrolled || !pending) return false;
  $('totp-resume-until').textContent = formatTime(pending.expiresAt);
  $('totp-scan').hidden = true;
  $('totp-resume').hidden = false;
  $('totp-setup').hidden = false;
  $('totp-setup-start').hidden = true;
  return true;
}

/** Confirms the app with the code typed in, closes the setup and shows the backup codes it brought. */
async function confirmTotpSetup() {
  const input = $('totp-code');
  clearFieldError(input);
  let result;
  try {
    result = await api('POST', '/auth/mfa/totp/confirm', { code: input.value });
  } catch (err) {
    if (err.code === 'invalid_code' || isLocked(err)) {
      showFieldError(
        input,
        err.code === 'invalid_code'
          ? 'That code is not right. Type the 6 digits the app shows now (they change every 30 seconds).'
          : codeErrorText(err, { factor: 'totp' }),
      );
      return;
    }
    throw err;
  }
  closeTotpSetup();
  showBackupCodes(result.backupCodes);
}

/** Hides the authenticator app setup and the secret it showed. */
export function closeTotpSetup() {
  $('totp-setup').hidden = true;
  $('totp-resume').hidden = true;
  $('totp-secret').textContent = '';
  delete $('totp-secret').dataset.secret;
  $('totp-uri').href = '#totp-setup';
  $('totp-qr').removeAttribute('src');
  clearFieldError($('totp-code'));
}

// --- Passkeys -------------------------------------------------------------------------------------

/** Creates a passkey on this device, named as typed in, and shows the backup codes it brought. */
async function addNamedPasskey() {
  const result = await addPasskey($('passkey-name').value.trim());
  $('passkey-name').value = '';
  showBackupCodes(result.backupCodes);
}

// --- Phone ----------------------------------------------------------------------------------------

/** Texts a code to the number typed in and opens the form to confirm it; resolves to the number. */
export async function startPhoneSetup() {
  const input = $('sms-phone');
  clearFieldError(input);
  let sent;
  try {
    sent = await api('POST', '/auth/mfa/sms/setup', { phone: input.value });
  } catch (err) {
    if (isLocked(err) && err.body?.retryAfter) {
      holdButton($('sms-setup-submit'), Date.now() + err.body.retryAfter * 1000);
      showFieldError(input, err.message);
      return undefined;
    }
    if (err.code === 'invalid_request') {
      showFieldError(input, err.message);
      return undefined;
    }
    throw err;
  }
  openPhoneConfirm(sent);
  $('sms-confirm-code').value = '';
  $('sms-confirm-code').focus();
  return sent.phone;
}

/** When the confirmation code on screen runs out (for the "expired" wording). */
let phoneExpiresAt;

/** `{ phone, expiresAt, resendAfter }`: as the setup answers, or the status lists it after a reload. */
function openPhoneConfirm({ phone, expiresAt, resendAfter }) {
  phoneExpiresAt = expiresAt;
  $('sms-confirm-form').hidden = false;
  $('sms-confirm-to').textContent = `We texted a code to ${phone}.`;
  // The server's wait before another text (`resendAfter`, seconds), not a guess of the page's.
  holdButton($('sms-setup-submit'), Date.now() + resendAfter * 1000, 'Text me a new code');
}

/**
 * After a reload: the number this session is confirming (`status.pending.phoneSetup`, masked), if any;
 * returns it.
 */
export function resumePhoneSetup(status) {
  const pending = status.pending?.phoneSetup;
  if (!pending) return undefined;
  openPhoneConfirm(pending);
  return pending.phone;
}

/** Confirms the phone with the code typed in: `{ phone, backupCodes? }`, or undefined when refused. */
export async function confirmPhone() {
  const input = $('sms-confirm-code');
  clearFieldError(input);
  let result;
  try {
    result = await api('POST', '/auth/mfa/sms/confirm', { code: input.value });
  } catch (err) {
    if (err.code === 'invalid_code' || isLocked(err)) {
      showFieldError(input, codeErrorText(err, { factor: 'sms', expiresAt: phoneExpiresAt }));
      return undefined;
    }
    throw err;
  }
  cancelPhoneSetup();
  return result;
}

export function cancelPhoneSetup() {
  phoneExpiresAt = undefined;
  $('sms-confirm-form').hidden = true;
  $('sms-phone').value = '';
  clearFieldError($('sms-confirm-code'));
}
