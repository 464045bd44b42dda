import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisStore, StoreUnavailableError } from '../lib/index.js';
import {
  makeWebAuthnApp,
  newAuthenticator,
  ORIGIN,
  RP_ID,
  registerPasskey,
} from './factors/webauthn/webauthn-test-app.js';
import { fileRedis, makeSignInApp } from './helpers/sign-in-app.js';
import { enrolTotp, makeTestApp } from './helpers/test-app.js';

const redis = fileRedis();

/**
 * The real RedisStore, whose calls on keys matching `failing` reject as in an outage, after the
 * first `skip` of them.
 */
class FlakyStore extends RedisStore {
  failing: RegExp | undefined;
  skip = 0;
  calls = 0;
  private seen = 0;
  private check(key: string) {
    if (!this.failing?.test(key) || this.seen++ < this.skip) return;
    this.calls++;
    throw new StoreUnavailableError('store down');
  }
  override async set(key: string, value: string, ttlMs?: number) {
    this.check(key);
    return super.set(key, value, ttlMs);
  }
  override async delete(...keys: string[]) {
    for (const key of keys) this.check(key);
    return super.delete(...keys);
  }
  override async countSet(key: string) {
    this.check(key);
    return super.countSet(key);
  }
}

const flakyStore = (client: Redis) =>
  new FlakyStore({ client, prefix: `book${Math.random().toString(36).slice(2)}:mfa:` });

/**
 * What a verification writes or reads after its check passed travels with the session's save (one
 * round trip, see finishVerification's `alongside`). When that work fails, the verification fails as
 * when the save does: a 503, no session cookie, nothing elevated; the next verification succeeds.
 */
for (const [what, failing] of [
  ['the use note', /:webauthn:used:/],
  ['the confirmation', /:webauthn:unconfirmed:/],
] as const) {
  test(`a passkey step-up answers 503 and elevates nothing when ${what} fails`, async () => {
    const store = flakyStore(redis());
    const t = await makeWebAuthnApp(redis(), { store });
    const authenticator = newAuthenticator();
    assert.equal((await registerPasskey(await t.signIn('eve'), authenticator)).res.status, 200);
    t.clock.advance(10 * 60_000); // the registration's freshness has lapsed
    const agent = await t.signIn('eve');
    await agent.get('/guarded').expect(401);

    const options = await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200);
    store.failing = failing;
    const answer = await agent
      .post('/auth/mfa/webauthn/verify/verify')
      .send({ response: authenticator.getAssertion(options.body) });
    store.failing = undefined;
    assert.equal(answer.status, 503, JSON.stringify(answer.body));
    assert.equal(answer.body.error, 'unavailable');
    assert.ok(store.calls > 0, `the ${what} was never attempted`);
    assert.equal(answer.headers['set-cookie'], undefined, 'a 503 must not set a new session cookie');
    assert.notEqual((await agent.get('/guarded')).status, 200, 'the failed verification elevated');

    // Once the store answers again, a new verification succeeds and writes what was lost.
    const again = await t.signIn('eve');
    const retry = await again.post('/auth/mfa/webauthn/verify/options').send({}).expect(200);
    await again
      .post('/auth/mfa/webauthn/verify/verify')
      .send({ response: authenticator.getAssertion(retry.body) })
      .expect(200);
    await again.get('/guarded').expect(200);
    const passkeys = (await again.get('/auth/mfa/webauthn/credentials').expect(200)).body.passkeys;
    assert.equal(passkeys[0].lastUsedAt, t.clock.now(), 'the use was noted');
  });
}

test('a backup code whose count of codes left cannot be read answers 503 and elevates nothing', async () => {
  const store = flakyStore(redis());
  const t = await makeTestApp(redis(), { store });
  const { backupCodes } = await enrolTotp(await t.signIn('fay'), t.clock);
  t.clock.advance(10 * 60_000);
  const agent = await t.signIn('fay');
  await agent.get('/guarded').expect(401);

  // The route counts the codes before (is there any left?) and after the redemption, an atomic
  // script that goes through: the count after it fails.
  store.failing = /:backup-codes$/;
  store.skip = 1;
  const answer = await agent.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] });
  store.failing = undefined;
  assert.equal(answer.status, 503, JSON.stringify(answer.body));
  assert.ok(store.calls > 0, 'the count was never attempted');
  assert.equal(answer.headers['set-cookie'], undefined, 'a 503 must not set a new session cookie');
  assert.notEqual((await agent.get('/guarded')).status, 200, 'the failed verification elevated');

  const again = await t.signIn('fay');
  const retry = await again.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[1] }).expect(200);
  assert.equal(retry.body.remaining, 8, 'the first code was spent by the failed verification');
  await again.get('/guarded').expect(200);
});

test('a passkey completing a sign-in whose use note fails answers 503: nobody signed in, no device remembered', async () => {
  const store = flakyStore(redis());
  const t = await makeSignInApp(redis(), {
    store,
    webauthn: { rpId: RP_ID, rpName: 'Acme', origin: ORIGIN },
    trustedDevices: true,
  });
  const authenticator = newAuthenticator();
  assert.equal((await registerPasskey(await t.signIn('gus'), authenticator)).res.status, 200);
  const { agent, res } = await t.password('gus');
  assert.equal(res.body.status, 'mfa_required');

  const options = await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200);
  store.failing = /:webauthn:used:/;
  const answer = await agent
    .post('/auth/mfa/webauthn/verify/verify')
    .send({ response: authenticator.getAssertion(options.body), rememberDevice: true });
  store.failing = undefined;
  assert.equal(answer.status, 503, JSON.stringify(answer.body));
  assert.ok(store.calls > 0, 'the use note was never attempted');
  assert.equal(
    answer.headers['set-cookie'],
    undefined,
    'a 503 must set neither a session nor a device cookie',
  );
  assert.equal((await agent.get('/test/me')).body.user, null, 'somebody is signed in');
  assert.notEqual((await agent.get('/guarded')).status, 200);
  // The device remembered on the way was revoked: signed in for real, the user has none listed.
  const signedIn = await t.signIn('gus');
  assert.deepEqual((await signedIn.get('/auth/mfa/trusted-devices').expect(200)).body.devices, []);
});
