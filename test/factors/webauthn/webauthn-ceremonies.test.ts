import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PasskeyRecord } from '../../../lib/factors/webauthn/passkey-records.js';
import { advanceCounter, initCounter } from '../../../lib/factors/webauthn/signature-counter.js';
import {
  checkAssertion,
  checkRegistration,
  knownTransports,
  newChallenge,
  registrationOptions,
} from '../../../lib/factors/webauthn/webauthn-ceremonies.js';
import { webauthnKeys } from '../../../lib/factors/webauthn/webauthn-keys.js';
import { parseWebAuthnOptions } from '../../../lib/factors/webauthn/webauthn-options.js';
import { MemoryStore } from '../../../lib/index.js';
import { cbor, SoftwareAuthenticator } from '../../helpers/software-authenticator.js';

const config = parseWebAuthnOptions({ rpId: 'example.com', origin: 'https://example.com' }, 'Acme')!;

test('counter rule of WebAuthn §7.2 step 21', async () => {
  /** Whether `received` is refused after the counter was set to `stored`. */
  const regressed = async (stored: number, received: number) => {
    const store = new MemoryStore();
    await initCounter(store, 'u', 'c', stored);
    return !(await advanceCounter(store, 'u', 'c', received, 0)).ok;
  };
  assert.equal(await regressed(0, 0), false, 'authenticators without a counter');
  assert.equal(await regressed(0, 1), false);
  assert.equal(await regressed(4, 5), false);
  assert.equal(await regressed(5, 5), true);
  assert.equal(await regressed(5, 4), true);
  assert.equal(await regressed(5, 0), true, 'a counter that stops counting');
  const store = new MemoryStore();
  await store.set(webauthnKeys.counter('u', 'c'), 'garbage');
  assert.deepEqual((await advanceCounter(store, 'u', 'c', 0, 0)).ok, false, 'unreadable fails closed');
  assert.deepEqual((await advanceCounter(store, 'u', 'c', 9, 0)).ok, false, 'unreadable fails closed');
});

test('challenges are 32 random bytes; unknown transports are dropped', () => {
  const a = newChallenge();
  assert.equal(Buffer.from(a, 'base64url').length, 32);
  assert.notEqual(a, newChallenge());
  assert.deepEqual(knownTransports(['usb', 'internal', 'usb', 'carrier-pigeon']), ['usb', 'internal']);
  assert.deepEqual(knownTransports(undefined), []);
});

test('the CBOR encoder matches RFC 8949 examples', () => {
  assert.equal(cbor(0).toString('hex'), '00');
  assert.equal(cbor(23).toString('hex'), '17');
  assert.equal(cbor(24).toString('hex'), '1818');
  assert.equal(cbor(1000).toString('hex'), '1903e8');
  assert.equal(cbor(1000000).toString('hex'), '1a000f4240');
  assert.equal(cbor(-1).toString('hex'), '20');
  assert.equal(cbor(-1000).toString('hex'), '3903e7');
  assert.equal(cbor('IETF').toString('hex'), '6449455446');
  assert.equal(cbor(Buffer.from([1, 2, 3, 4])).toString('hex'), '4401020304');
  assert.equal(cbor([1, [2, 3]]).toString('hex'), '8201820203');
  assert.equal(cbor({ a: 1 }).toString('hex'), 'a1616101');
});

test('registration and assertion round trip; an assertion is bound to its own credential', async () => {
  const authenticator = new SoftwareAuthenticator('https://example.com');
  const challenge = newChallenge();
  const handle = Buffer.alloc(32, 1).toString('base64url');
  const options = await registrationOptions({
    config,
    challenge,
    userHandle: handle,
    userName: 'ada',
    displayName: 'Ada',
    exclude: [],
  });
  const registered = await checkRegistration(config, authenticator.createCredential(options), challenge);
  assert.ok(registered);
  const record: PasskeyRecord = {
    ...registered,
    name: 'x',
    userHandle: handle,
    createdAt: 0,
    lastUsedAt: null,
  };
  const verifyChallenge = newChallenge();
  const response = authenticator.getAssertion({ challenge: verifyChallenge, rpId: 'example.com' });
  const ok = await checkAssertion({
    config,
    response,
    challenge: verifyChallenge,
    record,
    requireUserVerification: true,
  });
  assert.deepEqual(ok, { newCounter: 1, userVerified: true, backedUp: false });
  // Someone else's record with this response's id is not this response's credential.
  const other = { ...record, id: 'AAAA' };
  assert.equal(
    await checkAssertion({
      config,
      response,
      challenge: verifyChallenge,
      record: other,
      requireUserVerification: false,
    }),
    null,
  );
  assert.equal(
    await checkRegistration(config, authenticator.createCredential(options), newChallenge()),
    null,
  );
});
