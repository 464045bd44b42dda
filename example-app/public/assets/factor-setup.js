// The setup steps the account page and the recovery page share: an authenticator app, a passkey, a
// phone for text message codes, and the backup codes a first factor brings. Both pages use the same
// element ids.
import { api } from './api.js';
import { addPasskey } from './passkeys.js';

const $ = (id) => document.getElementById(id);

/**
 * Wires the authenticator app setup, "add a passkey" and "I've saved them": `run(button, fn)` runs
 * each step the page's way, and `reload()` redraws the page after a factor was added.
 */
export function bindFactorSetup(run, reload) {
  $('totp-setup-start').addEventListener('click', (event) => run(event.currentTarget, startTotpSetup));
  const onSubmit = (formId, buttonId, step) =>
    $(formId).addEventListener('submit', (event) => {
      event.preventDefault();
      return run($(buttonId), async () => {
        await step();
        await reload();
      });
    });
  onSubmit('totp-confirm-form', 'totp-confirm', confirmTotpSetup);
  onSubmit('passkey-add-form', 'passkey-add', addNamedPasskey);
  $('backup-codes-done').addEventListener('click', () => {
    $('backup-codes').replaceChildren();
    $('backup-codes-panel').hidden = true;
  });
}

/** Shows backup codes, once; `codes` is absent when the step brought none. */
export function showBackupCodes(codes) {
  if (!codes) return;
  $('backup-codes').replaceChildren(
    ...codes.map((code) => {
      const li = document.createElement('li');
      li.textContent = code;
      return li;
    }),
  );
  $('backup-codes-panel').hidden = false;
}

/** Asks for a new authenticator app secret and shows it, as a QR code and as text. */
async function startTotpSetup() {
  const { secret, qrCode } = await api('POST', '/auth/mfa/totp/setup');
  $('totp-qr').src = qrCode;
  $('totp-secret').textContent = secret;
  $('totp-code').value = '';
  $('totp-setup').hidden = false;
  $('totp-setup-start').hidden = true;
  $('totp-code').focus();
}

/** Confirms the app with the code typed in, closes the setup and shows the backup codes it brought. */
async function confirmTotpSetup() {
  const result = await api('POST', '/auth/mfa/totp/confirm', { code: $('totp-code').value });
  closeTotpSetup();
  showBackupCodes(result.backupCodes);
}

/** Hides the authenticator app setup and forgets the secret it showed. */
export function closeTotpSetup() {
  $('totp-setup').hidden = true;
  $('totp-secret').textContent = '';
  $('totp-qr').removeAttribute('src');
}

/** Creates a passkey on this device, named as typed in, and shows the backup codes it brought. */
async function addNamedPasskey() {
  const result = await addPasskey($('passkey-name').value.trim());
  $('passkey-name').value = '';
  showBackupCodes(result.backupCodes);
}

/** Texts a code to the number typed in and opens the form to confirm it; resolves to the number. */
export async function startPhoneSetup() {
  const { phone } = await api('POST', '/auth/mfa/sms/setup', { phone: $('sms-phone').value });
  $('sms-confirm-form').hidden = false;
  $('sms-confirm-code').value = '';
  $('sms-confirm-code').focus();
  return phone;
}

/** Confirms the phone with the code typed in: `{ phone, backupCodes? }`. */
export async function confirmPhone() {
  const result = await api('POST', '/auth/mfa/sms/confirm', { code: $('sms-confirm-code').value });
  $('sms-confirm-form').hidden = true;
  $('sms-phone').value = '';
  return result;
}
