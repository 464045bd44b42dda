import { z } from 'zod';

/** At a sign-in verification: remember this device, so later sign-ins on it skip the second factor. */
export const rememberDevice = z.boolean({ error: 'must be true or false.' }).optional();
/** Optional `returnTo` of a verify route: echoed validated (a path on this site, else '/'). */
export const returnToField = z.string({ error: '`returnTo` is a path, like "/account".' }).optional();

/** `{ code }`: a JSON string of at most 64 characters. Anything else is a 400, not a counted attempt. */
export const codeBody = z.object({
  code: z
    .string({ error: 'send the code as a JSON string, like { "code": "123456" }.' })
    .max(64, { error: 'a code is at most 64 characters.' }),
  rememberDevice,
  returnTo: returnToField,
});

/** Routes without input still take a JSON object (usually `{}`). */
export const emptyBody = z.object({}, { error: 'send a JSON object, `{}` when there is nothing to say.' });
