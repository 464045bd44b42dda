import { api, bindLogout, formatTime, runAction, showError, showVerifiedNotice } from './api.js';
import { bindFactorSetup, closeTotpSetup, showBackupCodes } from './factor-setup.js';
import { passkeysSupported } from './passkeys.js';

const $ = (id) => document.getElementById(id);
const error = $('error');

bindLogout();
showVerifiedNotice($('notice'));

/** Runs an account action; when it needs a fresh second factor, goes to the verify page and back. */
const run = (button, fn) => runAction(error, button, fn, '/account');

/** How the page names each factor. */
const FACTOR_NAMES = {
  totp: 'authenticator app',
  webauthn: 'passkeys',
  sms: 'text messages',
  email: 'email codes',
  backup_codes: 'backup codes',
};

async function loadStatus() {
  const status = await api('GET', '/auth/mfa/');
  const enrolled = status.totp.enrolled;
  const factorNames = status.factors.map((f) => FACTOR_NAMES[f] ?? f);
  $('factor-summary').textContent = factorNames.length > 0 ? factorNames.join(', ') : 'None yet';
  $('totp-status').textContent = enrolled ? 'On' : 'Off';
  $('backup-remaining').textContent = String(status.backupCodes.remaining);
  $('verified-at').textContent = status.verifiedAt ? formatTime(status.verifiedAt) : 'Not in this session';
  // verifiedUntil is for the server's fresh-MFA window: adding or removing factors needs no new prompt until then.
  $('verified-until').textContent = status.verifiedUntil
    ? formatTime(status.verifiedUntil)
    : 'Confirm it is you first';
  renderLocks(status.locks);
  // The server says when codes run low (and only when there is a factor for them to back up).
  $('backup-low').hidden = !status.backupCodes.low;
  // Backup codes back up enrolled factors; email (implicit, never enrolled) does not count.
  const enrolledFactors = status.factors.filter((f) => f !== 'email' && f !== 'backup_codes');
  $('totp-setup-start').hidden = enrolled;
  $('totp-remove').hidden = !enrolled;
  $('backup-regenerate').hidden = enrolledFactors.length === 0;
  $('notices-hint').hidden = !status.factors.includes('email');
  renderPasskeys(status.passkeys);
}

/** Factors locked after too many failed attempts, and until when. */
function renderLocks(locks) {
  const locked = Object.entries(locks).filter(([, lock]) => lock.locked);
  $('locks').hidden = locked.length === 0;
  $('locks').replaceChildren(
    ...locked.map(([factor, lock]) => {
      const li = document.createElement('li');
      li.dataset.factor = factor;
      const name = FACTOR_NAMES[factor] ?? factor;
      li.textContent = `Too many failed attempts: ${name} locked until ${formatTime(lock.until)}.`;
      return li;
    }),
  );
}

/** The passkeys card; `passkeys` is absent when the server has passkeys switched off. */
function renderPasskeys(passkeys) {
  $('passkeys-card').hidden = passkeys === undefined;
  if (passkeys === undefined) return;
  $('passkey-none').hidden = passkeys.length > 0;
  $('passkey-add-form').hidden = !passkeysSupported();
  $('passkey-list').replaceChildren(
    ...passkeys.map((passkey) => {
      const li = document.createElement('li');
      li.dataset.id = passkey.id;
      const name = document.createElement('span');
      name.className = 'passkey-name';
      name.textContent = passkey.name;
      const details = document.createElement('small');
      const used = passkey.lastUsedAt ? `last used ${formatTime(passkey.lastUsedAt)}` : 'not used yet';
      const synced = passkey.backedUp ? ', synced' : '';
      details.textContent = `Added ${formatTime(passkey.createdAt)}, ${used}${synced}`;
      const rename = document.createElement('button');
      rename.type = 'button';
      rename.className = 'secondary passkey-rename';
      rename.textContent = 'Rename';
      rename.addEventListener('click', () => renamePasskey(rename, passkey));
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'danger passkey-remove';
      remove.textContent = 'Remove';
      remove.addEventListener('click', () => removePasskey(remove, passkey));
      li.append(name, details, rename, remove);
      return li;
    }),
  );
}

const passkeyPath = (passkey) => `/auth/mfa/webauthn/credentials/${encodeURIComponent(passkey.id)}`;

function renamePasskey(button, passkey) {
  const name = prompt('New name for this passkey', passkey.name);
  if (name === null) return;
  return run(button, async () => {
    await api('PATCH', passkeyPath(passkey), { name });
    await loadStatus();
  });
}

function removePasskey(button, passkey) {
  if (!confirm(`Remove the passkey "${passkey.name}"? It will no longer sign you in.`)) return;
  return run(button, async () => {
    try {
      await api('DELETE', passkeyPath(passkey));
    } catch (err) {
      // The server wants the last factor's removal said out loud: ask, then say it.
      if (err.body?.error !== 'last_factor' || !confirm(err.message)) throw err;
      await api('DELETE', passkeyPath(passkey), { confirmLastFactor: true });
    }
    await loadStatus();
  });
}

bindFactorSetup(run, loadStatus);

$('totp-cancel').addEventListener('click', () => {
  closeTotpSetup();
  $('totp-setup-start').hidden = false;
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

// phone.js (text message codes) announces changes; binding a first phone can bring backup codes.
document.addEventListener('mfa:changed', (event) => {
  showBackupCodes(event.detail?.backupCodes);
  loadStatus().catch((err) => showError(error, err));
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
