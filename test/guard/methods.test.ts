import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { MINUTE } from '../../lib/index.js';
import { newAuthenticator, registerPasskey, verifyPasskey } from '../factors/webauthn/webauthn-test-app.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { enrolAndVerifyTotp, enrolTotp, totpCode } from '../helpers/test-app.js';
import { type GuardTestApp, makeGuardApp, showLocals } from './guard-test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

function app() {
  return makeGuardApp(redis.client(), (mfa, app) => {
    app.get('/passkey-only', mfa.requireMfa(5 * MINUTE, { methods: ['webauthn'] }), showLocals);
    app.get('/code-or-passkey', mfa.requireMfa(5 * MINUTE, { methods: ['totp', 'webauthn'] }), showLocals);
    // A session verified before per-factor times were kept: verifiedAt and methods only.
    app.post('/test/legacy-state', express.json(), (req, res) => {
      req.session.mfa = { userId: req.session.user!.id, verifiedAt: req.body.at, methods: ['webauthn'] };
      res.json({ ok: true });
    });
  });
}

/** A user with TOTP and a passkey, in a new session that has not verified yet. */
async function withTotpAndPasskey(t: GuardTestApp, userId: string) {
  const setup = await t.signIn(userId);
  const { secret } = await enrolTotp(setup, t.clock);
  const authenticator = newAuthenticator();
  assert.equal((await registerPasskey(setup, authenticator)).res.status, 200);
  return { secret, authenticator, agent: await t.signIn(userId) };
}

describe('requireMfa methods', () => {
  test('a TOTP verification does not satisfy a passkey-only route; a passkey does', async () => {
    const t = await app();
    const { agent, secret, authenticator } = await withTotpAndPasskey(t, 'ada');
    t.clock.advance(60_000);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    await agent.get('/guarded').expect(200);
    await agent.get('/code-or-passkey').expect(200);
    const refused = await agent.get('/passkey-only').expect(401);
    assert.deepEqual(refused.body, {
      error: 'mfa_required',
      message: 'Verify with a second factor to continue.',
      factors: ['webauthn'],
      phishingResistant: ['webauthn'],
      required: ['webauthn'],
    });

    // The status tells a page the same: which of the user's factors a phishing site cannot relay.
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, ['totp', 'webauthn', 'backup_codes']);
    assert.deepEqual(status.body.phishingResistant, ['webauthn']);

    t.clock.advance(1000);
    assert.equal((await verifyPasskey(agent, authenticator)).res.status, 200);
    const passed = await agent.get('/passkey-only').expect(200);
    assert.equal(passed.body.mfa.method, 'webauthn');
    assert.equal(passed.body.mfa.verifiedAt, t.clock.now());
  });

  test('each factor keeps its own time: a later TOTP neither renews nor voids the passkey', async () => {
    const t = await app();
    const { agent, secret, authenticator } = await withTotpAndPasskey(t, 'bob');
    t.clock.advance(60_000);
    assert.equal((await verifyPasskey(agent, authenticator)).res.status, 200);
    const passkeyAt = t.clock.now();
    t.clock.advance(4 * MINUTE);
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    // The passkey's verification still counts, at its own time; the latest (TOTP) is the session's verifiedAt.
    const still = await agent.get('/passkey-only').expect(200);
    assert.equal(still.body.mfa.verifiedAt, passkeyAt);
    assert.deepEqual(still.body.mfa.methods, ['webauthn', 'totp']);
    assert.equal((await agent.get('/auth/mfa/').expect(200)).body.verifiedAt, t.clock.now());

    t.clock.set(passkeyAt + 5 * MINUTE + 1);
    const expired = await agent.get('/passkey-only').expect(401);
    assert.equal(expired.body.error, 'mfa_expired');
    assert.deepEqual(expired.body.factors, ['webauthn']);
    await agent.get('/guarded').expect(200);
    const either = await agent.get('/code-or-passkey').expect(200);
    assert.equal(either.body.mfa.method, 'totp');
  });

  test('403 not_enrolled with `required` for a user without any acceptable factor', async () => {
    const t = await app();
    const agent = await t.signIn('cyd');
    await enrolAndVerifyTotp(agent, t.clock);
    const res = await agent.get('/passkey-only').expect(403);
    assert.deepEqual(res.body, {
      error: 'not_enrolled',
      message: 'This needs webauthn: set one up first.',
      factors: [],
      phishingResistant: [],
      required: ['webauthn'],
    });
  });

  test('a session without per-factor times satisfies a plain guard as before, not a methods guard', async () => {
    const t = await app();
    const { agent } = await withTotpAndPasskey(t, 'dee');
    await agent.post('/test/legacy-state').send({ at: t.clock.now() }).expect(200);
    await agent.get('/guarded').expect(200);
    assert.equal((await agent.get('/passkey-only').expect(401)).body.error, 'mfa_required');
  });
});
