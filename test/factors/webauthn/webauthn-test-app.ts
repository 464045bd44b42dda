import express from 'express';
import type { Redis } from 'ioredis';
import type supertest from 'supertest';
import type { MfaOptions } from '../../../lib/index.js';
import { type Overrides, SoftwareAuthenticator } from '../../helpers/software-authenticator.js';
import { makeTestApp } from '../../helpers/test-app.js';

export const RP_ID = 'example.com';
export const ORIGIN = 'https://example.com';

/** The shared test app with passkeys on and a passwordless sign-in that sets `req.session.user`. */
export async function makeWebAuthnApp(
  redis: Redis,
  overrides: Partial<MfaOptions> & { prefix?: string } = {},
) {
  // RedisStore fails fast while its client connects; a first request must not race the connection.
  await redis.ping();
  const t = await makeTestApp(redis, {
    webauthn: { rpId: RP_ID, rpName: 'Acme', origin: ORIGIN },
    onLogin: async (req, userId) => {
      await new Promise((resolve) => setImmediate(resolve)); // an app's lookup: onLogin may be async
      req.session.user = { id: userId };
    },
    ...overrides,
  });
  // A limited recovery session for `userId`, as /recovery/complete would leave it.
  t.app.post('/test/recovery', express.json(), (req, res) => {
    req.session.regenerate(() => {
      req.session.mfa = { userId: req.body.id, recovery: { until: t.clock.now() + 15 * 60_000 } };
      res.json({ ok: true });
    });
  });
  return t;
}

export const newAuthenticator = () => new SoftwareAuthenticator(ORIGIN);

/** Asks for registration options and answers them with `authenticator`; returns the verify answer. */
export async function registerPasskey(
  agent: supertest.Agent,
  authenticator: SoftwareAuthenticator,
  extra: { name?: string; overrides?: Overrides } = {},
) {
  const options = await agent.post('/auth/mfa/webauthn/register/options').send({}).expect(200);
  const response = authenticator.createCredential(options.body, extra.overrides);
  const body = extra.name === undefined ? { response } : { response, name: extra.name };
  return {
    options: options.body,
    response,
    res: await agent.post('/auth/mfa/webauthn/register/verify').send(body),
  };
}

/** Asks for step-up options and answers them with `authenticator`; returns the verify answer. */
export async function verifyPasskey(
  agent: supertest.Agent,
  authenticator: SoftwareAuthenticator,
  overrides: Overrides = {},
) {
  const options = await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200);
  const response = authenticator.getAssertion(options.body, overrides);
  return {
    options: options.body,
    response,
    res: await agent.post('/auth/mfa/webauthn/verify/verify').send({ response }),
  };
}

/** A passwordless sign-in with `authenticator`; returns the verify answer. */
export async function loginWithPasskey(
  agent: supertest.Agent,
  authenticator: SoftwareAuthenticator,
  overrides: Overrides = {},
) {
  const options = await agent.post('/auth/mfa/webauthn/login/options').send({}).expect(200);
  const response = authenticator.getAssertion(options.body, overrides);
  return {
    options: options.body,
    response,
    res: await agent.post('/auth/mfa/webauthn/login/verify').send({ response }),
  };
}
