import { api, bindLogout, formatTime, showError } from './api.js';
import { showDevOutbox } from './dev-outbox.js';
import { bindFactorSetup, closeTotpSetup, resumeTotpSetup, showBackupCodes } from './factor-setup.js';
import { countdown, FACTOR_NAMES } from './feedback.js';
import { confirmInline } from './inline-step-up.js';
import { passkeysSupported } from './passkeys.js';
import { runAction, takeResume } from './step-up.js';

const $ = (id) => document.getElementById(id);
const error = $('error');

bindLogout();
const resume = takeResume($('notice'));

/**
 * Runs an account action; when it needs a fresh second factor, confirms it inline (or on the verify
 * page, which comes back and runs `action` again by itself).
 */
const run = (button, fn, action, data) =>
  runAction(error, button, fn, { returnTo: '/account', action, data, stepUp: confirmInline });

let stopLockCountdowns = [];

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
  const settingUp = !$('totp-setup').hidden || resumeTotpSetup(status);
  $('totp-setup-start').hidden = enrolled || settingUp;
  $('totp-remove').hidden = !enrolled;
  $('backup-regenerate').hidden = enrolledFactors.length === 0;
  $('notices-hint').hidden = !status.factors.includes('email');
  renderPasskeys(status.passkeys);
  renderDevices(status.trustedDevices);
  return status;
}

/** Factors locked after too many failed attempts, counting down to when they open again. */
function renderLocks(locks) {
  for (const stop of stopLockCountdowns) stop();
  stopLockCountdowns = [];
  const locked = Object.entries(locks).filter(([, lock]) => lock.locked);
  $('locks').hidden = locked.length === 0;
  $('locks').replaceChildren(
    ...locked.map(([factor, lock]) => {
      const li = document.createElement('li');
      li.dataset.factor = factor;
      const name = FACTOR_NAMES[factor] ?? factor;
      stopLockCountdowns.push(
        countdown(
          li,
          lock.until,
          (wait) => `Too many failed attempts: ${name} locked for ${wait} (until ${formatTime(lock.until)}).`,
          () => loadStatus().catch(() => {}),
        ),
      );
      return li;
    }),
  );
}

function button(label, className, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = label;
  b.addEventListener('click', () => onClick(b));
  return b;
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
      const rename = button('Rename', 'secondary passkey-rename', (b) => renamePasskey(b, passkey));
      rename.setAttribute('aria-label', `Rename passkey ${passkey.name}`);
      const remove = button('Remove', 'danger passkey-remove', (b) => removePasskey(b, passkey));
      remove.setAttribute('aria-label', `Remove passkey ${passkey.name}`);
      li.append(name, details, rename, remove);
      return li;
    }),
  );
}

/** Remembered devices ("remember this device" at sign-in); absent when the feature is off. */
function renderDevices(devices) {
  $('devices-card').hidden = devices === undefined;
  if (devices === undefined) return;
  $('device-none').hidden = devices.length > 0;
  $('devices-forget-all').hidden = devices.length < 2;
  $('device-list').replaceChildren(
    ...devices.map((device) => {
      const li = document.createElement('li');
      li.dataset.id = device.id;
      const name = document.createElement('span');
      name.className = 'passkey-name';
      name.textContent = device.current ? `${device.name} (this device)` : device.name;
      const details = document.createElement('small');
      const used = device.lastUsedAt ? `last used ${formatTime(device.lastUsedAt)}` : 'not used since';
      details.textContent = `Remembered ${formatTime(device.createdAt)}, ${used}, until ${formatTime(device.expiresAt)}`;
      const forget = button('Forget', 'danger device-forget', (b) => forgetDevice(b, device));
      forget.setAttribute('aria-label', `Forget ${device.current ? 'this device' : device.name}`);
      li.append(name, details, forget);
      return li;
    }),
  );
}

function deviceNotice(text) {
  $('device-feedback').textContent = text;
  $('device-feedback').hidden = false;
}

// Forgetting a device only takes trust away: the server asks no fresh second factor for it.
function forgetDevice(b, device) {
  return run(b, async () => {
    await api('DELETE', `/auth/mfa/trusted-devices/${encodeURIComponent(device.id)}`);
    await loadStatus();
    deviceNotice(
      device.current
        ? 'This device is forgotten: your next sign-in here asks for your second factor.'
        : `${device.name} is forgotten: signing in there asks for your second factor again.`,
    );
    $('devices-title').focus();
  });
}

$('devices-forget-all').addEventListener('click', (event) => {
  if (!confirm('Forget every remembered device? Each will ask for your second factor at its next sign-in.'))
    return;
  return run(event.currentTarget, async () => {
    const { revoked } = await api('DELETE', '/auth/mfa/trusted-devices');
    await loadStatus();
    deviceNotice(`${revoked} ${revoked === 1 ? 'device' : 'devices'} forgotten.`);
  });
});

const passkeyPath = (passkey) => `/auth/mfa/webauthn/credentials/${encodeURIComponent(passkey.id)}`;

function renamePasskey(b, passkey) {
  const name = prompt('New name for this passkey', passkey.name);
  if (name === null) return;
  return run(b, async () => {
    await api('PATCH', passkeyPath(passkey), { name });
    await loadStatus();
  });
}

function removePasskey(b, passkey) {
  if (!confirm(`Remove the passkey "${passkey.name}"? It will no longer sign you in.`)) return;
  return run(b, async () => {
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
  $('totp-setup-start').focus();
});

const regenerate = () =>
  run(
    $('backup-regenerate'),
    async () => {
      const { backupCodes } = await api('POST', '/auth/mfa/backup-codes');
      showBackupCodes(backupCodes);
      await loadStatus();
    },
    'backup-regenerate',
  );
$('backup-regenerate').addEventListener('click', () => {
  if (confirm('Create new backup codes? Your current ones will stop working.')) regenerate();
});

const removeTotp = () =>
  run(
    $('totp-remove'),
    async () => {
      await api('DELETE', '/auth/mfa/totp');
      await loadStatus();
    },
    'totp-remove',
  );
$('totp-remove').addEventListener('click', () => {
  if (confirm('Remove the authenticator app? Your backup codes will stop working too.')) removeTotp();
});

// phone.js (text message codes) announces changes; binding a first phone can bring backup codes.
document.addEventListener('mfa:changed', (event) => {
  showBackupCodes(event.detail?.backupCodes);
  loadStatus().catch((err) => showError(error, err));
});

/** What the page runs again by itself after the verify page (the user already asked and confirmed). */
const RESUMABLE = {
  'totp-setup': () => $('totp-setup-start').click(),
  'backup-regenerate': regenerate,
  'totp-remove': removeTotp,
  'sms-setup': (data) => document.dispatchEvent(new CustomEvent('mfa:resume-sms', { detail: data })),
};

try {
  const { user } = await api('GET', '/api/me');
  $('user-email').textContent = user.email;
  $('user-name').textContent = user.name ? ` (${user.name})` : '';
  await loadStatus();
  showDevOutbox(['nav-outbox', 'step-up-outbox']);
  if (resume && RESUMABLE[resume.action]) await RESUMABLE[resume.action](resume.data);
} catch (err) {
  if (err.status === 401) location.assign('/');
  else showError(error, err);
}
