import { api, busy, hide, showError } from './api.js';
import { passkeysSupported, signInWithPasskey } from './passkeys.js';

const error = document.getElementById('error');

function handle(formId, buttonId, send) {
  const form = document.getElementById(formId);
  const button = document.getElementById(buttonId);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    hide(error);
    const fields = Object.fromEntries(new FormData(form));
    try {
      const next = await busy(button, () => send(fields));
      location.assign(next ?? '/account');
    } catch (err) {
      showError(error, err);
    }
  });
}

// A user with a second factor is not signed in yet: the verify page finishes the sign-in.
handle('login-form', 'login-submit', async ({ email, password }) => {
  const result = await api('POST', '/api/login', { email, password });
  if (result.status === 'mfa_required') return '/verify?signIn=1';
});
handle('signup-form', 'signup-submit', async ({ email, password, name }) => {
  await api('POST', '/api/signup', { email, password, name });
});

// Passwordless: the passkey alone (with the device's PIN or biometrics) signs in.
const passkeyButton = document.getElementById('passkey-login');
passkeyButton.hidden = !passkeysSupported();
document.getElementById('passkey-or').hidden = passkeyButton.hidden;
passkeyButton.addEventListener('click', async () => {
  hide(error);
  try {
    await busy(passkeyButton, signInWithPasskey);
    location.assign('/account');
  } catch (err) {
    showError(error, err);
  }
});

// "Lost your second factor?" only where recovery works (it needs an email sender).
api('GET', '/api/features')
  .then((features) => {
    document.getElementById('recover-link').hidden = !features.recovery;
  })
  .catch(() => {});
