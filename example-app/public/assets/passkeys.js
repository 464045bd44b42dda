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
