import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import supertest from 'supertest';
import { outboxEmail } from '../../../lib/delivery/outbox.js';
import { createMfa, MemoryStore, MfaOptionsError } from '../../../lib/index.js';
import { parseOptions } from '../../../lib/options.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { SECRET } from '../../helpers/test-app.js';
import { makeRecoveryApp } from './helpers.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

const base = () => ({
  issuer: 'Acme',
  store: new MemoryStore(),
  secret: SECRET,
  getUser: () => undefined,
  email: outboxEmail({ log: false }),
});

function rejects(options: Record<string, unknown>, pattern: RegExp) {
  assert.throws(
    () => createMfa(options as never),
    (error: unknown) => error instanceof MfaOptionsError && pattern.test(error.message),
  );
}

test('recovery is off without findUserByEmail, on with it: 15 minute code and session, 5 and 10 requests an hour', () => {
  assert.equal(parseOptions(base()).recovery, undefined);
  const findUserByEmail = () => undefined;
  const { recovery } = parseOptions({ ...base(), findUserByEmail });
  assert.deepEqual(recovery, {
    findUserByEmail,
    endSessions: undefined,
    codeTtlMs: 15 * 60_000,
    sessionTtlMs: 15 * 60_000,
    maxRequestsPerAccountPerHour: 5,
    maxRequestsPerClientPerHour: 10,
  });
});

test('recovery options say how to fix them', () => {
  const { email: _email, ...noEmail } = base();
  rejects(
    { ...noEmail, findUserByEmail: () => undefined },
    /emails a recovery code: set `email` to an email sender/,
  );
  rejects({ ...base(), findUserByEmail: 'users' }, /`findUserByEmail` must be a function/);
  rejects({ ...base(), endSessions: () => {} }, /`endSessions` is for account recovery.*`findUserByEmail`/);
  rejects({ ...base(), recovery: {} }, /`recovery` is for account recovery/);
  const on = { ...base(), findUserByEmail: () => undefined };
  rejects({ ...on, endSessions: 'all' }, /`endSessions` must be a function/);
  rejects({ ...on, recovery: { codeTtl: 1 } }, /`recovery\.codeTtl`.*Did you mean `codeTtlMs`/);
  rejects({ ...on, recovery: { sessionTtlMs: 15 } }, /`recovery\.sessionTtlMs`.*15 \* MINUTE/);
  rejects({ ...on, recovery: { maxRequestsPerClientPerHour: 0 } }, /maxRequestsPerClientPerHour/);
  rejects({ ...on, recovery: 'yes' }, /`recovery` must be an object/);
});

test('without findUserByEmail the recovery routes are 404; recovery needs an email sender', async () => {
  const t = await makeRecoveryApp(redis.client(), { findUserByEmail: undefined, endSessions: undefined });
  assert.equal(
    (await supertest(t.app).post('/auth/mfa/recovery/start').send({ email: 'ada@example.com' }).expect(404))
      .body.error,
    'not_found',
  );
  await supertest(t.app)
    .post('/auth/mfa/recovery/complete')
    .send({ email: 'ada@example.com', code: 'x' })
    .expect(404);
  assert.throws(
    () =>
      createMfa({
        issuer: 'Acme',
        store: new MemoryStore(),
        secret: SECRET,
        getUser: () => undefined,
        findUserByEmail: () => undefined,
      }),
    /`findUserByEmail` turns on account recovery, which emails a recovery code: set `email`/,
  );
  createMfa({
    issuer: 'Acme',
    store: new MemoryStore(),
    secret: SECRET,
    getUser: () => undefined,
    findUserByEmail: () => undefined,
    email: outboxEmail({ log: false }),
  });
});
