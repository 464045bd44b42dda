import assert from 'node:assert/strict';
import { test } from 'node:test';
import type supertest from 'supertest';
import { makeWebAuthnApp, newAuthenticator, registerPasskey } from './factors/webauthn/webauthn-test-app.js';
import { countRoundTrips } from './helpers/round-trips.js';
import { fileRedis, makeSignInApp } from './helpers/sign-in-app.js';
import { enrolTotp, makeTestApp, totpCode } from './helpers/test-app.js';

const redis = fileRedis();

/**
 * The round trips one verification waits for, the session's load included: a verification answers
 * only after every store write, so each round trip is latency the user waits for and a socket write
 * the server pays. Each test also proves the verification worked (200, the guarded route opens).
 */
async function roundTripsOf(send: () => supertest.Test): Promise<{ res: supertest.Response; trips: number }> {
  const counter = countRoundTrips(redis());
  try {
    const res = await send();
    return { res, trips: counter.count };
  } finally {
    counter.stop();
  }
}

test('a TOTP step-up waits for 4 round trips: session, secret, attempt script, regeneration', async () => {
  const t = await makeTestApp(redis());
  const { secret } = await enrolTotp(await t.signIn('ada'), t.clock);
  t.clock.advance(60_000);
  const agent = await t.signIn('ada');
  const { res, trips } = await roundTripsOf(() =>
    agent.post('/auth/mfa/totp/verify').send({ code: totpCode(secret, t.clock) }),
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(trips, 4);
  await agent.get('/guarded').expect(200);
});

test('a backup code waits for 4 round trips: the count after redeeming goes with the regeneration', async () => {
  const t = await makeTestApp(redis());
  const { backupCodes } = await enrolTotp(await t.signIn('bob'), t.clock);
  const agent = await t.signIn('bob');
  const { res, trips } = await roundTripsOf(() =>
    agent.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] }),
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.remaining, 9, 'the count is read after the redemption');
  assert.equal(trips, 4);
  await agent.get('/guarded').expect(200);
});

test('a passkey step-up waits for 4 round trips: session, record with index, attempt script, regeneration with the use notes', async () => {
  const t = await makeWebAuthnApp(redis());
  const authenticator = newAuthenticator();
  assert.equal((await registerPasskey(await t.signIn('cyd'), authenticator)).res.status, 200);
  const agent = await t.signIn('cyd');
  t.clock.advance(60_000);
  const options = await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200);
  const response = authenticator.getAssertion(options.body);
  const { res, trips } = await roundTripsOf(() =>
    agent.post('/auth/mfa/webauthn/verify/verify').send({ response }),
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(trips, 4);
  await agent.get('/guarded').expect(200);
  const passkeys = (await agent.get('/auth/mfa/webauthn/credentials').expect(200)).body.passkeys;
  assert.equal(passkeys[0].lastUsedAt, t.clock.now(), 'the use was noted');
});

test('a sign-in completed with TOTP waits for 4 round trips, onLogin included', async () => {
  const t = await makeSignInApp(redis());
  const { secret } = await enrolTotp(await t.signIn('dee'), t.clock);
  t.clock.advance(60_000);
  const { agent, res: pending } = await t.password('dee');
  assert.equal(pending.body.status, 'mfa_required');
  const { res, trips } = await roundTripsOf(() =>
    agent.post('/auth/mfa/totp/verify').send({ code: totpCode(secret, t.clock) }),
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.signedIn, true);
  assert.equal(trips, 4);
  assert.equal(t.logins.get('dee'), 1);
  await agent.get('/guarded').expect(200);
});
