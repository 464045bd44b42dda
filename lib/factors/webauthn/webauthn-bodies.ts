import { z } from 'zod';
import { rememberDevice, returnToField } from '../../bodies.js';

// Request bodies of the passkey routes. Shape errors are 400s and are never counted as attempts;
// whether the (well-shaped) response verifies is decided later, as a 401.

/** Credential ids are at most 1023 bytes (WebAuthn §5.8.3): 1364 base64url characters. */
const MAX_ID = 1364;

const base64url = (max: number) =>
  z
    .string({ error: 'must be a base64url string.' })
    .min(1, { error: 'must not be empty.' })
    .max(max, { error: `must be at most ${max} characters.` })
    .regex(/^[A-Za-z0-9_-]+$/, { error: 'must be base64url (A-Z, a-z, 0-9, - and _).' });

/** A passkey id in a URL path: the same alphabet and bound as in bodies. */
export const isCredentialId = (value: string) => value.length <= MAX_ID && /^[A-Za-z0-9_-]+$/.test(value);

const credential = {
  id: base64url(MAX_ID),
  rawId: base64url(MAX_ID),
  type: z.literal('public-key', { error: 'must be "public-key".' }),
  clientExtensionResults: z.record(z.string(), z.unknown()).optional().default({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional().catch(undefined),
};

const name = z
  .string({ error: 'a passkey name is text.' })
  .trim()
  .min(1, { error: 'a passkey name must not be empty.' })
  .max(64, { error: 'a passkey name is at most 64 characters.' });

/** `POST /register/verify`: `{ response: <startRegistration() result>, name? }`. */
export const registerBody = z.object(
  {
    response: z.object(
      {
        ...credential,
        response: z.object({
          clientDataJSON: base64url(8192),
          attestationObject: base64url(16_384),
          transports: z.array(z.string().max(32)).max(10).optional(),
        }),
      },
      { error: 'send the result of startRegistration() as `response`.' },
    ),
    name: name.optional(),
  },
  { error: 'send a JSON object like { "response": ..., "name": "My laptop" }.' },
);

/** `POST /verify/verify` and `POST /login/verify`: `{ response: <startAuthentication() result> }`. */
export const assertionBody = z.object(
  {
    response: z.object(
      {
        ...credential,
        response: z.object({
          clientDataJSON: base64url(8192),
          authenticatorData: base64url(8192),
          signature: base64url(2048),
          // Browsers send no handle, or null, for credentials that are not discoverable.
          userHandle: base64url(128).nullish(),
        }),
      },
      { error: 'send the result of startAuthentication() as `response`.' },
    ),
    rememberDevice,
    returnTo: returnToField,
  },
  { error: 'send a JSON object like { "response": ... }.' },
);

/** `PATCH /credentials/:id`. */
export const renameBody = z.object({ name }, { error: 'send a JSON object like { "name": "My laptop" }.' });

/** `DELETE /credentials/:id`: `{}`, or `{ confirmLastFactor: true }` to remove the last factor. */
export const removeBody = z.object(
  { confirmLastFactor: z.boolean({ error: 'must be true or false.' }).optional() },
  { error: 'send a JSON object, `{}` or { "confirmLastFactor": true }.' },
);
