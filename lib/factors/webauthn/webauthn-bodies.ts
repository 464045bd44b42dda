import { rememberDevice, returnToField } from '../../bodies.js';
import { lazySchema, type Zod } from '../../lazy-schema.js';

// Request bodies of the passkey routes. Shape errors are 400s and are never counted as attempts;
// whether the (well-shaped) response verifies is decided later, as a 401.

/** Credential ids are at most 1023 bytes (WebAuthn §5.8.3): 1364 base64url characters. */
const MAX_ID = 1364;

const base64url = (z: Zod, max: number) =>
  z
    .string({ error: 'must be a base64url string.' })
    .min(1, { error: 'must not be empty.' })
    .max(max, { error: `must be at most ${max} characters.` })
    .regex(/^[A-Za-z0-9_-]+$/, { error: 'must be base64url (A-Z, a-z, 0-9, - and _).' });

/** A passkey id in a URL path: the same alphabet and bound as in bodies. */
export const isCredentialId = (value: string) => value.length <= MAX_ID && /^[A-Za-z0-9_-]+$/.test(value);

const credential = (z: Zod) => ({
  id: base64url(z, MAX_ID),
  rawId: base64url(z, MAX_ID),
  type: z.literal('public-key', { error: 'must be "public-key".' }),
  clientExtensionResults: z.record(z.string(), z.unknown()).optional().default({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional().catch(undefined),
});

const name = (z: Zod) =>
  z
    .string({ error: 'a passkey name is text.' })
    .trim()
    .min(1, { error: 'a passkey name must not be empty.' })
    .max(64, { error: 'a passkey name is at most 64 characters.' });

/** `POST /register/verify`: `{ response: <startRegistration() result>, name? }`. */
export const registerBody = lazySchema((z) =>
  z.object(
    {
      response: z.object(
        {
          ...credential(z),
          response: z.object({
            clientDataJSON: base64url(z, 8192),
            attestationObject: base64url(z, 16_384),
            transports: z.array(z.string().max(32)).max(10).optional(),
          }),
        },
        { error: 'send the result of startRegistration() as `response`.' },
      ),
      name: name(z).optional(),
    },
    { error: 'send a JSON object like { "response": ..., "name": "My laptop" }.' },
  ),
);

/** `POST /verify/verify` and `POST /login/verify`: `{ response: <startAuthentication() result> }`. */
export const assertionBody = lazySchema((z) =>
  z.object(
    {
      response: z.object(
        {
          ...credential(z),
          response: z.object({
            clientDataJSON: base64url(z, 8192),
            authenticatorData: base64url(z, 8192),
            signature: base64url(z, 2048),
            // Browsers send no handle, or null, for credentials that are not discoverable.
            userHandle: base64url(z, 128).nullish(),
          }),
        },
        { error: 'send the result of startAuthentication() as `response`.' },
      ),
      rememberDevice: rememberDevice(z),
      returnTo: returnToField(z),
    },
    { error: 'send a JSON object like { "response": ... }.' },
  ),
);

/** `PATCH /credentials/:id`. */
export const renameBody = lazySchema((z) =>
  z.object({ name: name(z) }, { error: 'send a JSON object like { "name": "My laptop" }.' }),
);

/** `DELETE /credentials/:id`: `{}`, or `{ confirmLastFactor: true }` to remove the last factor. */
export const removeBody = lazySchema((z) =>
  z.object(
    { confirmLastFactor: z.boolean({ error: 'must be true or false.' }).optional() },
    { error: 'send a JSON object, `{}` or { "confirmLastFactor": true }.' },
  ),
);
