import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import supertest from 'supertest';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { enrolTotp, makeTestApp } from '../../helpers/test-app.js';
import { makeWebAuthnApp, newAuthenticator, registerPasskey, verifyPasskey } from './webauthn-test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

const path = (id: string) => `/auth/mfa/webauthn/credentials/${id}`;

describe('managing passkeys', () => {
  test('lists, renames and checks ownership', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const agent = await t.signIn('ada');
    const first = (await registerPasskey(agent, newAuthenticator(), { name: 'Phone' })).res.body.passkey;
    t.clock.advance(1000);
    const second = (await registerPasskey(agent, newAuthenticator())).res.body.passkey;
    const list = await agent.get('/auth/mfa/webauthn/credentials').expect(200);
    assert.deepEqual(list.body, { passkeys: [first, second] });

    const renamed = await agent.patch(path(second.id)).send({ name: ' Work laptop ' }).expect(200);
    assert.deepEqual(renamed.body, { ok: true, passkey: { ...second, name: 'Work laptop' } });
    const after = await agent.get('/auth/mfa/webauthn/credentials').expect(200);
    assert.equal(after.body.passkeys[1].name, 'Work laptop');

    for (const name of ['', '   ', 'x'.repeat(65), 3, null]) {
      const res = await agent.patch(path(second.id)).send({ name }).expect(400);
      assert.equal(res.body.error, 'invalid_request');
    }
    await agent.patch(path(second.id)).type('form').send('name=x').expect(415);

    // Another user's passkey, a made-up id or a malformed one: 404, the same for all.
    const bob = await t.signIn('bob');
    for (const id of [first.id, 'AAAA', 'not%20an%20id']) {
      const res = await bob.patch(path(id)).send({ name: 'mine now' }).expect(404);
      assert.equal(res.body.error, 'not_found');
      await bob.delete(path(id)).send({}).expect(404);
    }
    assert.equal(
      (await agent.get('/auth/mfa/webauthn/credentials').expect(200)).body.passkeys[0].name,
      'Phone',
    );
    await supertest(t.app).get('/auth/mfa/webauthn/credentials').expect(401);
  });

  test('removing needs a fresh MFA; the last factor only when confirmed, taking the backup codes', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const agent = await t.signIn('cyd');
    const a = newAuthenticator();
    const b = newAuthenticator();
    const first = (await registerPasskey(agent, a)).res.body.passkey;
    const second = (await registerPasskey(agent, b)).res.body.passkey;

    // A session without a recent MFA cannot remove anything.
    const thief = await t.signIn('cyd');
    const stale = await thief.delete(path(first.id)).send({}).expect(401);
    assert.equal(stale.body.error, 'mfa_required');

    // With another passkey left, no confirmation is needed.
    await agent.delete(path(first.id)).send({}).expect(200);
    assert.ok(t.events.some((e) => e.type === 'factor_removed' && e.factor === 'webauthn'));
    const fresh = await t.signIn('cyd');
    const offered = (await fresh.post('/auth/mfa/webauthn/verify/options').send({}).expect(200)).body;
    assert.deepEqual(
      offered.allowCredentials.map((c: { id: string }) => c.id),
      [second.id],
    );
    const removed = a.getAssertion({ ...offered, allowCredentials: [] });
    await fresh.post('/auth/mfa/webauthn/verify/verify').send({ response: removed }).expect(401);
    assert.equal((await verifyPasskey(fresh, b)).res.status, 200);

    // The last one: 409 with a sentence, unless confirmed.
    const last = await agent.delete(path(second.id)).send({}).expect(409);
    assert.match(last.body.message, /last second factor.*confirmLastFactor/);
    assert.equal(last.body.error, 'last_factor');
    const refused = await agent.delete(path(second.id)).send({ confirmLastFactor: 'yes' }).expect(400);
    assert.equal(refused.body.error, 'invalid_request');
    await agent.delete(path(second.id)).send({ confirmLastFactor: true }).expect(200);
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, []);
    assert.deepEqual(status.body.passkeys, []);
    assert.equal(status.body.backupCodes.remaining, 0);
  });

  test('with TOTP enrolled, the only passkey is not the last factor and backup codes stay', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const agent = await t.signIn('dee');
    await enrolTotp(agent, t.clock);
    const passkey = (await registerPasskey(agent, newAuthenticator())).res.body.passkey;
    await agent.delete(path(passkey.id)).send({}).expect(200);
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, ['totp', 'backup_codes']);
    assert.equal(status.body.backupCodes.remaining, 10);
  });

  test('a removed passkey no longer signs in, and can be registered again', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const agent = await t.signIn('eve');
    const authenticator = newAuthenticator();
    const passkey = (await registerPasskey(agent, authenticator)).res.body.passkey;
    await registerPasskey(agent, newAuthenticator());
    await agent.delete(path(passkey.id)).send({}).expect(200);
    const anon = supertest.agent(t.app);
    const options = (await anon.post('/auth/mfa/webauthn/login/options').send({}).expect(200)).body;
    const res = await anon
      .post('/auth/mfa/webauthn/login/verify')
      .send({ response: authenticator.getAssertion(options, { credentialId: passkey.id }) })
      .expect(401);
    assert.equal(res.body.error, 'invalid_code');
    const again = await registerPasskey(agent, newAuthenticator(), {
      overrides: { credentialId: passkey.id },
    });
    assert.equal(again.res.status, 200);
  });

  test('a recovery session cannot list or change passkeys', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const agent = await t.signIn('fay');
    const passkey = (await registerPasskey(agent, newAuthenticator())).res.body.passkey;
    const recovering = supertest.agent(t.app);
    await recovering.post('/test/recovery').send({ id: 'fay' }).expect(200);
    await recovering.get('/auth/mfa/webauthn/credentials').expect(403);
    await recovering.patch(path(passkey.id)).send({ name: 'x' }).expect(403);
    const res = await recovering.delete(path(passkey.id)).send({ confirmLastFactor: true }).expect(403);
    assert.equal(res.body.error, 'recovery_only');
  });
});

describe('without the webauthn option', () => {
  test('every passkey route is 404, the factor is not listed and GET / has no passkeys', async () => {
    const client = redis.client();
    const t = await makeTestApp(client, { prefix: 'off:' });
    const agent = await t.signIn('gil');
    for (const [method, route] of [
      ['post', 'register/options'],
      ['post', 'register/verify'],
      ['post', 'verify/options'],
      ['post', 'verify/verify'],
      ['post', 'login/options'],
      ['post', 'login/verify'],
      ['get', 'credentials'],
      ['patch', 'credentials/AAAA'],
      ['delete', 'credentials/AAAA'],
    ] as const) {
      const res = await agent[method](`/auth/mfa/webauthn/${route}`).send({}).expect(404);
      assert.equal(res.body.error, 'not_found');
    }
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.equal('passkeys' in status.body, false);

    // Passkeys stored while the option was on do not count once it is off.
    const on = await makeWebAuthnApp(client, { prefix: 'off:' });
    await registerPasskey(await on.signIn('gil'), newAuthenticator());
    assert.deepEqual(await t.mfa.factors('gil'), ['backup_codes']);
    assert.deepEqual(await on.mfa.factors('gil'), ['webauthn', 'backup_codes']);
  });
});
