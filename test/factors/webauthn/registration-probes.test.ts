import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { makeWebAuthnApp, newAuthenticator, registerPasskey } from './webauthn-test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

const VERIFY = '/auth/mfa/webauthn/register/verify';

describe('registering a credential id that is already registered', () => {
  test('costs a ceremony: the 409 uses up the challenge, so the same options cannot probe again', async () => {
    const t = await makeWebAuthnApp(redis.client(), { limits: { maxFailures: 50 } });
    const known = (await registerPasskey(await t.signIn('ada'), newAuthenticator())).res.body.passkey.id;
    const agent = await t.signIn('bob');
    const mine = (await registerPasskey(agent, newAuthenticator())).res.body.passkey.id;
    const options = (await agent.post('/auth/mfa/webauthn/register/options').send({}).expect(200)).body;
    const probe = (id: string) => newAuthenticator().createCredential(options, { credentialId: id });
    const first = await agent
      .post(VERIFY)
      .send({ response: probe(known) })
      .expect(409);
    assert.equal(first.body.error, 'already_enrolled');
    // A second probe with the same challenge is just a used challenge: 401, whichever id it names.
    for (const id of [known, mine]) {
      const again = await agent
        .post(VERIFY)
        .send({ response: probe(id) })
        .expect(401);
      assert.equal(again.body.error, 'invalid_code');
    }
    // A new ceremony is needed for the next answer.
    const next = await registerPasskey(agent, newAuthenticator(), { overrides: { credentialId: mine } });
    assert.equal(next.res.status, 409);
  });
});
