import { lazySchema, type Zod } from './lazy-schema.js';

/** At a sign-in verification: remember this device, so later sign-ins on it skip the second factor. */
export const rememberDevice = (z: Zod) => z.boolean({ error: 'must be true or false.' }).optional();
/** Optional `returnTo` of a verify route: echoed validated (a path on this site, else '/'). */
export const returnToField = (z: Zod) =>
  z.string({ error: '`returnTo` is a path, like "/account".' }).optional();

/** `{ code }`: a JSON string of at most 64 characters. Anything else is a 400, not a counted attempt. */
export const codeBody = lazySchema((z) =>
  z.object({
    code: z
      .string({ error: 'send the code as a JSON string, like { "code": "123456" }.' })
      .max(64, { error: 'a code is at most 64 characters.' }),
    rememberDevice: rememberDevice(z),
    returnTo: returnToField(z),
  }),
);

/** Routes without input still take a JSON object (usually `{}`). */
export const emptyBody = lazySchema((z) =>
  z.object({}, { error: 'send a JSON object, `{}` when there is nothing to say.' }),
);
