// The account page's email and text message codes: shows email codes, binds and removes a phone.
import { api, runAction, showError } from './api.js';
import { confirmPhone, startPhoneSetup } from './factor-setup.js';

const $ = (id) => document.getElementById(id);
const error = $('error');

/** Runs an action; when it needs a fresh second factor, goes to the verify page and back. */
const run = (button, fn) => runAction(error, button, fn, '/account');

/** Tells account.js to redraw (and show backup codes a first factor brought). */
const changed = (detail = {}) => document.dispatchEvent(new CustomEvent('mfa:changed', { detail }));

async function load() {
  const [status, sms, me] = await Promise.all([
    api('GET', '/auth/mfa/'),
    api('GET', '/auth/mfa/sms').catch((err) => (err.status === 404 ? null : Promise.reject(err))),
    api('GET', '/api/me'),
  ]);
  const email = status.factors.includes('email');
  $('email-codes').hidden = !email;
  $('email-codes-to').textContent = me.user.email;
  $('sms-card').hidden = sms === null;
  $('codes-card').hidden = !email && sms === null;
  if (!sms) return;
  $('sms-status').textContent = sms.enrolled ? `On, to ${sms.phone}` : 'Off';
  $('sms-remove').hidden = !sms.enrolled;
  $('sms-setup-submit').textContent = sms.enrolled ? 'Change number' : 'Text me a code';
}

$('sms-setup-form').addEventListener('submit', (event) => {
  event.preventDefault();
  return run($('sms-setup-submit'), async () => {
    const phone = await startPhoneSetup();
    $('sms-status').textContent = `We texted a code to ${phone}`;
  });
});

$('sms-confirm-form').addEventListener('submit', (event) => {
  event.preventDefault();
  return run($('sms-confirm-submit'), async () => {
    const result = await confirmPhone();
    changed(result.backupCodes ? { backupCodes: result.backupCodes } : {});
    await load();
  });
});

$('sms-cancel').addEventListener('click', () => {
  $('sms-confirm-form').hidden = true;
  load().catch((err) => showError(error, err));
});

$('sms-remove').addEventListener('click', (event) => {
  if (!confirm('Remove this phone number? It will no longer receive sign-in codes.')) return;
  return run(event.currentTarget, async () => {
    await api('DELETE', '/auth/mfa/sms');
    changed();
    await load();
  });
});

try {
  await load();
} catch (err) {
  if (err.status !== 401) showError(error, err);
}
