import {
  api,
  bindLogout,
  busy,
  formatTime,
  goToVerify,
  hide,
  needsStepUp,
  showError,
  showVerifiedNotice,
} from './api.js';

const $ = (id) => document.getElementById(id);
const error = $('error');

bindLogout();
showVerifiedNotice($('notice'));

/** Runs an account action; when it needs a fresh second factor, goes to the verify page and back. */
async function run(button, fn) {
  hide(error);
  try {
    await busy(button, fn);
  } catch (err) {
    if (needsStepUp(err)) return goToVerify('/account');
    showError(error, err);
  }
}

async function loadStatus() {
  const status = await api('GET', '/auth/mfa/');
  const enrolled = status.totp.enrolled;
  $('totp-status').textContent = enrolled ? 'On' : 'Off';
  $('backup-remaining').textContent = String(status.backupCodes.remaining);
  $('verified-at').textContent = status.verifiedAt ? formatTime(status.verifiedAt) : 'Not in this session';
  $('backup-low').hidden = !(status.factors.length > 0 && status.backupCodes.remaining <= 3);
  $('totp-setup-start').hidden = enrolled;
  $('totp-remove').hidden = !enrolled;
  $('backup-regenerate').hidden = status.factors.length === 0;
}

function showBackupCodes(codes) {
  $('backup-codes').replaceChildren(
    ...codes.map((code) => {
      const li = document.createElement('li');
      li.textContent = code;
      return li;
    }),
  );
  $('backup-codes-panel').hidden = false;
}

$('totp-setup-start').addEventListener('click', (event) =>
  run(event.currentTarget, async () => {
    const { secret, qrCode } = await api('POST', '/auth/mfa/totp/setup');
    $('totp-qr').src = qrCode;
    $('totp-secret').textContent = secret;
    $('totp-code').value = '';
    $('totp-setup').hidden = false;
    $('totp-setup-start').hidden = true;
    $('totp-code').focus();
  }),
);

$('totp-confirm-form').addEventListener('submit', (event) => {
  event.preventDefault();
  return run($('totp-confirm'), async () => {
    const result = await api('POST', '/auth/mfa/totp/confirm', { code: $('totp-code').value });
    closeSetup();
    if (result.backupCodes) showBackupCodes(result.backupCodes);
    await loadStatus();
  });
});

function closeSetup() {
  $('totp-setup').hidden = true;
  $('totp-secret').textContent = '';
  $('totp-qr').removeAttribute('src');
}

$('totp-cancel').addEventListener('click', () => {
  closeSetup();
  $('totp-setup-start').hidden = false;
});

$('backup-codes-done').addEventListener('click', () => {
  $('backup-codes').replaceChildren();
  $('backup-codes-panel').hidden = true;
});

$('backup-regenerate').addEventListener('click', (event) => {
  if (!confirm('Create new backup codes? Your current ones will stop working.')) return;
  return run(event.currentTarget, async () => {
    const { backupCodes } = await api('POST', '/auth/mfa/backup-codes');
    showBackupCodes(backupCodes);
    await loadStatus();
  });
});

$('totp-remove').addEventListener('click', (event) => {
  if (!confirm('Remove the authenticator app? Your backup codes will stop working too.')) return;
  return run(event.currentTarget, async () => {
    await api('DELETE', '/auth/mfa/totp');
    await loadStatus();
  });
});

try {
  const { user } = await api('GET', '/api/me');
  $('user-email').textContent = user.email;
  $('user-name').textContent = user.name ? ` (${user.name})` : '';
  await loadStatus();
} catch (err) {
  if (err.status === 401) location.assign('/');
  else showError(error, err);
}
