// The account page's email and text message codes: shows email codes, binds and removes a phone.
import { api, showError } from './api.js';
import { cancelPhoneSetup, confirmPhone, resumePhoneSetup, startPhoneSetup } from './factor-setup.js';
import { confirmInline } from './inline-step-up.js';
import { runAction } from './step-up.js';

const $ = (id) => document.getElementById(id);
const error = $('error');

/** Runs an action; a fresh second factor is confirmed inline or on the verify page, then it goes on. */
const run = (button, fn, action, data) =>
  runAction(error, button, fn, { returnTo: '/account', action, data, stepUp: confirmInline });

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
  if (!sms) return status;
  $('sms-status').textContent = sms.enrolled ? `On, to ${sms.phone}` : 'Off';
  $('sms-remove').hidden = !sms.enrolled;
  $('sms-setup-submit').dataset.label = sms.enrolled ? 'Change number' : 'Text me a code';
  if (!$('sms-setup-submit').disabled)
    $('sms-setup-submit').textContent = $('sms-setup-submit').dataset.label;
  return status;
}

const setUpPhone = () =>
  run(
    $('sms-setup-submit'),
    async () => {
      const phone = await startPhoneSetup();
      if (phone) $('sms-status').textContent = `We texted a code to ${phone}`;
    },
    'sms-setup',
    { phone: $('sms-phone').value },
  );

$('sms-setup-form').addEventListener('submit', (event) => {
  event.preventDefault();
  return setUpPhone();
});

// Back from the verify page: the number typed before it is sent again, without another click.
document.addEventListener('mfa:resume-sms', (event) => {
  $('sms-phone').value = event.detail?.phone ?? '';
  if ($('sms-phone').value) setUpPhone();
});

$('sms-confirm-form').addEventListener('submit', (event) => {
  event.preventDefault();
  return run($('sms-confirm-submit'), async () => {
    const result = await confirmPhone();
    if (!result) return;
    changed(result.backupCodes ? { backupCodes: result.backupCodes } : {});
    await load();
  });
});

$('sms-cancel').addEventListener('click', () => {
  cancelPhoneSetup();
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
  // A number this session is confirming comes back after a reload, with the server's resend wait.
  const pending = resumePhoneSetup(await load());
  if (pending) $('sms-status').textContent = `We texted a code to ${pending}`;
} catch (err) {
  if (err.status !== 401) showError(error, err);
}
