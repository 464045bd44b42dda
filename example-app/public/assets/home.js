import { ApiError, api, busy, hide, showError } from './api.js';
import { getFeatures } from './dev-outbox.js';
import { clearFieldError, showFieldError } from './feedback.js';
import { passkeysSupported, signInWithPasskey, startPasskeyAutofill } from './passkeys.js';

const $ = (id) => document.getElementById(id);
const error = $('error');

/** Errors that concern one field go under it; anything else to the page's alert. */
const FIELD_OF = {
  'login-form': (err) =>
    err.code === 'invalid_credentials' ? 'login-password' : fieldFromMessage('login', err),
  'signup-form': (err) => (err.code === 'email_taken' ? 'signup-email' : fieldFromMessage('signup', err)),
};

/** The app's 400s name what is wrong in their sentence: email, password or name. */
function fieldFromMessage(prefix, err) {
  if (!(err instanceof ApiError) || err.code !== 'invalid_request') return undefined;
  const word = ['email', 'password', 'name'].find((w) => err.message.toLowerCase().includes(w));
  return word && `${prefix}-${word}`;
}

function handle(formId, buttonId, send) {
  const form = $(formId);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    hide(error);
    for (const input of form.querySelectorAll('input')) clearFieldError(input);
    const fields = Object.fromEntries(new FormData(form));
    try {
      const next = await busy($(buttonId), () => send(fields));
      location.assign(next ?? '/account');
    } catch (err) {
      const field = $(FIELD_OF[formId](err) ?? '');
      if (field) showFieldError(field, err.message);
      else showError(error, err);
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
const passkeyButton = $('passkey-login');
passkeyButton.hidden = !passkeysSupported();
$('passkey-or').hidden = passkeyButton.hidden;
passkeyButton.addEventListener('click', async () => {
  hide(error);
  try {
    await busy(passkeyButton, signInWithPasskey);
    location.assign('/account');
  } catch (err) {
    showError(error, err);
  }
});

// Passkey autofill: the browser offers the user's passkeys in the email field's suggestions (the
// button stays for browsers without it). Started when the field is first focused, so a visit that
// never signs in asks the server for no challenge.
$('login-email').addEventListener(
  'focus',
  () => {
    startPasskeyAutofill()
      .then((signedIn) => {
        if (signedIn) location.assign('/account');
      })
      .catch((err) => showError(error, err));
  },
  { once: true },
);

// "Lost your second factor?" only where recovery works (it needs an email sender).
getFeatures()
  .then((features) => {
    $('recover-link').hidden = !features.recovery;
  })
  .catch(() => {});
