import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type supertest from 'supertest';
import { type PasskeyRecord, passkeyRecords } from '../../../lib/factors/webauthn/passkey-records.js';
import { MemoryStore, RedisStore, type Store } from '../../../lib/index.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import type { TestApp } from '../../helpers/test-app.js';
import { makeWebAuthnApp, newAuthenticator, registerPasskey, verifyPasskey } from './webauthn-test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

const record = (id: string, createdAt = 0): PasskeyRecord => ({
  id,
  publicKey: 'AAAA',
  counter: 0,
  transports: [],
  deviceType: 'singleDevice',
  backedUp: false,
  name: id,
  userHandle: 'AAAA',
  createdAt,
  lastUsedAt: null,
});

const stores: Array<[string, () => Promise<Store>]> = [
  ['MemoryStore', async () => new MemoryStore()],
  [
    'RedisStore',
    async () => {
      const client = redis.client();
      await client.ping(); // RedisStore fails fast while its client connects
      return new RedisStore({ client, prefix: `pc${Math.random().toString(36).slice(2)}:` });
    },
  ],
];

for (const [name, makeStore] of stores) {
  describe(`the passkey index on ${name}`, () => {
    test('parallel additions all land', async () => {
      const records = passkeyRecords(await makeStore());
      const ids = Array.from({ length: 10 }, (_, i) => `id${i}`);
      await Promise.all(ids.map((id, i) => records.add('ada', record(id, i))));
      assert.deepEqual((await records.ids('ada')).sort(), ids);
      assert.deepEqual(
        (await records.list('ada')).map((r) => r.id),
        ids,
        'listed oldest first',
      );
    });

    test('parallel removals leave no ghost behind', async () => {
      const records = passkeyRecords(await makeStore());
      const ids = ['a', 'b', 'c', 'd', 'e'];
      for (const id of ids) await records.add('bob', record(id));
      await Promise.all(['a', 'c', 'e'].map((id) => records.remove('bob', id)));
      assert.deepEqual((await records.ids('bob')).sort(), ['b', 'd']);
      await Promise.all(['b', 'd'].map((id) => records.remove('bob', id)));
      assert.deepEqual(await records.ids('bob'), []);
      for (const id of ids) assert.equal(await records.owner(id), null);
    });
  });
}

/** A user with one passkey, and `n` further signed-in sessions of theirs. */
async function enrolled(t: TestApp, userId: string, n = 1) {
  const authenticator = newAuthenticator();
  const { res } = await registerPasskey(await t.signIn(userId), authenticator);
  assert.equal(res.status, 200);
  const sessions = await Promise.all(Array.from({ length: n }, () => t.signIn(userId)));
  return { authenticator, id: res.body.passkey.id as string, sessions };
}

const stepUp = async (agent: supertest.Agent) =>
  (await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200)).body;

describe('the signature counter under concurrency', () => {
  test('parallel assertions with the same counter: exactly one passes, the others are regressions', async () => {
    const t = await makeWebAuthnApp(redis.client(), { limits: { maxFailures: 50 } });
    const { authenticator, sessions } = await enrolled(t, 'cyd', 5);
    const options = await Promise.all(sessions.map(stepUp));
    // A cloned authenticator answers with the same counter as the original.
    const responses = options.map((o) => authenticator.getAssertion(o, { counter: 7 }));
    const results = await Promise.all(
      sessions.map((agent, i) =>
        agent.post('/auth/mfa/webauthn/verify/verify').send({ response: responses[i] }),
      ),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 401).length, 4, statuses.join(','));
    assert.equal(t.events.filter((e) => e.type === 'counter_regression').length, 4);
  });

  test('a regression counts toward the lock, on top of earlier failures', async () => {
    const t = await makeWebAuthnApp(redis.client());
    const { authenticator, sessions } = await enrolled(t, 'dee');
    const [agent] = sessions as [supertest.Agent];
    assert.equal((await verifyPasskey(agent, authenticator, { counter: 10 })).res.status, 200);
    for (let i = 0; i < 4; i++) {
      assert.equal((await verifyPasskey(agent, authenticator, { badSignature: true })).res.status, 401);
    }
    // The fifth failure is the regression: it locks the factor.
    assert.equal((await verifyPasskey(agent, authenticator, { counter: 10 })).res.status, 401);
    assert.ok(t.events.some((e) => e.type === 'locked' && e.factor === 'webauthn'));
    assert.equal((await verifyPasskey(agent, authenticator, { counter: 11 })).res.status, 429);
  });

  test('a use does not rewrite the passkey record, so it cannot undo a concurrent rename', async () => {
    const client = redis.client();
    const prefix = `use${Math.random().toString(36).slice(2)}:`;
    const t = await makeWebAuthnApp(client, { prefix });
    const { authenticator, id, sessions } = await enrolled(t, 'eve');
    const [agent] = sessions as [supertest.Agent];
    const [recordKey] = await client.keys(`${prefix}mfa:*:webauthn:cred:${id}`);
    assert.ok(recordKey);
    const stored = await client.get(recordKey);
    assert.equal((await verifyPasskey(agent, authenticator)).res.status, 200);
    assert.equal(await client.get(recordKey), stored);
    for (let i = 0; i < 5; i++) {
      const options = await stepUp(agent);
      const [renamed, used] = await Promise.all([
        agent.patch(`/auth/mfa/webauthn/credentials/${id}`).send({ name: `Key ${i}` }),
        agent
          .post('/auth/mfa/webauthn/verify/verify')
          .send({ response: authenticator.getAssertion(options) }),
      ]);
      assert.deepEqual([renamed.status, used.status], [200, 200]);
    }
    const list = (await agent.get('/auth/mfa/webauthn/credentials').expect(200)).body.passkeys;
    assert.equal(list[0].name, 'Key 4');
    assert.equal(list[0].lastUsedAt, t.clock.now());
  });
});
