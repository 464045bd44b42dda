// Passkeys in the browser: SimpleWebAuthn's UMD bundle (loaded by a plain <script> before this
// module) talks to the authenticator; the JSON API does the rest.
import { api, signInExtras } from './api.js';

const browser = () => {
  const lib = globalThis.SimpleWebAuthnBrowser;
  if (!lib) throw new Error('Passkey support did not load. Reload the page and try again.');
  return lib;
};

export const passkeysSupported = () => Boolean(globalThis.SimpleWebAuthnBrowser?.browserSupportsWebAuthn());

/** The browser's and authenticator's refusals, in words a person can act on. */
function explain(err) {
  if (err?.name === 'NotAllowedError') {
    return new Error('The passkey request was cancelled or timed out. Try again when you are ready.');
  }
  if (err?.name === 'InvalidStateError')
    return new Error('This device already has a passkey for your account.');
  return err;
}

/** Creates a passkey on this device and registers it: `{ passkey, backupCodes? }`. */
export async function addPasskey(name) {
  const optionsJSON = await api('POST', '/auth/mfa/webauthn/register/options');
  let response;
  try {
    response = await browser().startRegistration({ optionsJSON });
  } catch (err) {
    throw explain(err);
  }
  return api('POST', '/auth/mfa/webauthn/register/verify', name ? { response, name } : { response });
}

/** Runs one passkey ceremony against `/auth/mfa/webauthn/<kind>/options` and `.../<kind>/verify`. */
async function assert(kind) {
  const optionsJSON = await api('POST', `/auth/mfa/webauthn/${kind}/options`);
  let response;
  try {
    response = await browser().startAuthentication({ optionsJSON });
  } catch (err) {
    throw explain(err);
  }
  return api('POST', `/auth/mfa/webauthn/${kind}/verify`, {
    response,
    ...(kind === 'verify' ? signInExtras() : {}),
  });
}

/** Confirms it's you with a passkey (second factor / step-up). */
export const verifyWithPasskey = () => assert('verify');

/** Signs in with a passkey alone (it asks for your PIN or biometrics). */
export const signInWithPasskey = () => assert('login');

/**
 * Passkeys in the browser's autofill (WebAuthn conditional mediation) on a field with
 * `autocomplete="username webauthn"`: resolves true once the user picked one and is signed in,
 * false where the browser has no autofill for passkeys or the request was replaced (the button
 * starts its own ceremony, which cancels this one).
 */
export async function startPasskeyAutofill() {
  const lib = globalThis.SimpleWebAuthnBrowser;
  if (!lib || !(await lib.browserSupportsWebAuthnAutofill())) return false;
  const field = document.querySelector('input[autocomplete~="webauthn"]');
  // Autofill is a convenience: when the server cannot start it, the button is still there.
  const optionsJSON = await api('POST', '/auth/mfa/webauthn/login/options').catch(() => undefined);
  if (!optionsJSON) return false;
  let response;
  try {
    field?.setAttribute('data-passkey-autofill', 'waiting');
    response = await lib.startAuthentication({ optionsJSON, useBrowserAutofill: true });
  } catch {
    field?.setAttribute('data-passkey-autofill', 'stopped');
    return false; // aborted by the button's ceremony, or the user dismissed it: the button remains
  }
  await api('POST', '/auth/mfa/webauthn/login/verify', { response });
  return true;
}
