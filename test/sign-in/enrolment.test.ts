import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMfa, DAY, MemoryStore, MfaOptionsError, outboxEmail } from '../../lib/index.js';
import { lastCode } from '../factors/email-sms/helpers.js';
import { fileRedis, makeSignInApp } from '../helpers/sign-in-app.js';
import { SECRET, totpCode } from '../helpers/test-app.js';

const redisClient = fileRedis();

describe("signIn.enrolment: 'required'", () => {
  test('a user without a factor gets a setup-only session; confirming the first factor signs them in', async () => {
    const t = await makeSignInApp(redisClient(), { signIn: { enrolment: 'required' } });
    const { agent, res } = await t.password('ann');
    assert.deepEqual(res.body, { status: 'enrol_required' });
    assert.equal((await agent.get('/test/me')).body.user, null);
    assert.equal((await agent.get('/guarded')).status, 401);
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.equal(status.body.signIn.stage, 'enrol');
    assert.deepEqual(status.body.factors, []);

    // Only enrolment: verifying (there is nothing to verify) and everything else is refused.
    for (const res of [
      await agent.post('/auth/mfa/totp/verify').send({ code: '123456' }),
      await agent.post('/auth/mfa/backup-codes/verify').send({ code: 'ABCD-EFGH' }),
    ]) {
      assert.equal(res.status, 403);
      assert.equal(res.body.error, 'enrolment_required');
    }

    const setup = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    const confirm = await agent
      .post('/auth/mfa/totp/confirm')
      .send({ code: totpCode(setup.body.secret, t.clock) })
      .expect(200);
    assert.equal(confirm.body.signedIn, true);
    assert.equal(confirm.body.backupCodes.length, 10);
    assert.equal(t.logins.get('ann'), 1);
    assert.equal((await agent.get('/test/me')).body.user.id, 'ann');
    await agent.get('/guarded').expect(200);
    const types = t.events.filter((e) => e.userId === 'ann').map((e) => e.type);
    assert.ok(types.includes('sign_in'));
    assert.ok(t.events.some((e) => e.type === 'sign_in_completed' && e.enrolled === true));

    // The next sign-in asks for the new factor.
    t.clock.advance(30_000);
    assert.equal((await t.password('ann')).res.body.status, 'mfa_required');
  });

  test('with email as the implicit factor, the setup-only session proves the mailbox before adding a factor', async () => {
    const email = outboxEmail({ log: false });
    const t = await makeSignInApp(redisClient(), { email, signIn: { enrolment: 'required' } });
    const { agent, res } = await t.password('gil');
    // Email does not count at sign-in (signIn.emailCodes is off), so there is no second factor yet.
    assert.deepEqual(res.body, { status: 'enrol_required' });
    // A stolen password alone must not enrol the thief's authenticator: the mailbox first.
    const stale = await agent.post('/auth/mfa/totp/setup').send({});
    assert.equal(stale.status, 401);
    assert.equal(stale.body.error, 'mfa_required');
    assert.deepEqual(stale.body.factors, ['email']);
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    const verified = await agent
      .post('/auth/mfa/email/verify')
      .send({ code: lastCode(email) })
      .expect(200);
    assert.equal(verified.body.signedIn, undefined, 'proving the mailbox is not a sign-in');
    assert.equal((await agent.get('/test/me')).body.user, null);
    assert.equal((await agent.get('/guarded')).status, 401);
    assert.equal((await agent.get('/auth/mfa/')).body.signIn.stage, 'enrol');

    const setup = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    const confirm = await agent
      .post('/auth/mfa/totp/confirm')
      .send({ code: totpCode(setup.body.secret, t.clock) })
      .expect(200);
    assert.equal(confirm.body.signedIn, true);
    assert.equal((await agent.get('/test/me')).body.user.id, 'gil');
  });

  test('the setup-only session expires with signIn.pendingTtlMs', async () => {
    const t = await makeSignInApp(redisClient(), {
      signIn: { enrolment: 'required', pendingTtlMs: 120_000 },
    });
    const { agent } = await t.password('bea');
    t.clock.advance(120_001);
    const res = await agent.post('/auth/mfa/totp/setup').send({});
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'unauthenticated');
  });
});

describe('signIn.enrolment: { requiredFrom, graceSignIns }', () => {
  test('signed in with enrolBy until the date, then counted grace sign-ins, then required', async () => {
    const t = await makeSignInApp(redisClient());
    const requiredFrom = t.clock.now() + 7 * DAY;
    const phased = await makeSignInApp(redisClient(), {
      now: t.clock.now,
      signIn: { enrolment: { requiredFrom, graceSignIns: 2 } },
    });
    assert.deepEqual((await phased.password('cal')).res.body, { status: 'signed_in', enrolBy: requiredFrom });
    t.clock.set(requiredFrom);
    assert.deepEqual((await phased.password('cal')).res.body, {
      status: 'signed_in',
      enrolBy: requiredFrom,
      graceSignInsLeft: 1,
    });
    assert.equal((await phased.password('cal')).res.body.graceSignInsLeft, 0);
    assert.deepEqual((await phased.password('cal')).res.body, { status: 'enrol_required' });
    assert.deepEqual((await phased.password('cal')).res.body, { status: 'enrol_required' });
    // Counted per user: another user has their own grace.
    assert.equal((await phased.password('dot')).res.body.graceSignInsLeft, 1);
    const outcomes = phased.events.filter((e) => e.type === 'sign_in' && e.userId === 'cal');
    assert.deepEqual(
      outcomes.map((e) => (e.type === 'sign_in' ? e.outcome : '')),
      ['signed_in', 'signed_in', 'signed_in', 'enrol_required', 'enrol_required'],
    );
  });

  test('parallel sign-ins cannot share one grace sign-in', async () => {
    const t = await makeSignInApp(redisClient(), {
      signIn: { enrolment: { requiredFrom: 0, graceSignIns: 3 } },
    });
    const results = await Promise.all(Array.from({ length: 10 }, () => t.password('eve')));
    const signedIn = results.filter((r) => r.res.body.status === 'signed_in');
    assert.equal(signedIn.length, 3);
    assert.deepEqual(signedIn.map((r) => r.res.body.graceSignInsLeft).sort(), [0, 1, 2]);
  });

  test('with no grace, required from the date on', async () => {
    const t = await makeSignInApp(redisClient(), { signIn: { enrolment: { requiredFrom: 0 } } });
    assert.deepEqual((await t.password('fay')).res.body, { status: 'enrol_required' });
  });
});

describe('signIn and trustedDevices options', () => {
  const base = { issuer: 'Acme', store: new MemoryStore(), secret: SECRET, getUser: () => undefined };
  const invalid = (options: object, message: RegExp) =>
    assert.throws(
      () => createMfa({ ...base, ...options } as never),
      (error: unknown) => error instanceof MfaOptionsError && message.test(error.message),
    );
  test('are checked at createMfa with a sentence that says how to fix them', () => {
    invalid({ signIn: { pendingTtl: 1 } }, /unknown option `signIn.pendingTtl`. Did you mean `pendingTtlMs`/);
    invalid({ signIn: { pendingTtlMs: 5 } }, /signIn.pendingTtlMs.*did you mean 5 \* MINUTE/);
    invalid({ signIn: { emailCodes: 'yes' } }, /signIn.emailCodes` must be true or false/);
    invalid({ signIn: { enrolment: 'always' } }, /signIn.enrolment` must be 'optional', 'required'/);
    invalid({ signIn: { enrolment: { requiredFrom: '2027-01-01' } } }, /requiredFrom` must be a date in ms/);
    invalid(
      { signIn: { enrolment: { requiredFrom: 0, graceSignIns: -1 } } },
      /graceSignIns` must be a whole number/,
    );
    invalid({ trustedDevices: { ttl: 1 } }, /unknown option `trustedDevices.ttl`. Did you mean `ttlMs`/);
    invalid({ trustedDevices: { cookieName: 'a b' } }, /cookieName` must be a cookie name/);
    invalid({ trustedDevices: { maxPerUser: 0 } }, /maxPerUser` must be a whole number from 1 to 100/);
    // A Date is as good as its ms.
    createMfa({
      ...base,
      signIn: { enrolment: { requiredFrom: new Date(0) as never } },
      trustedDevices: true,
    });
  });
});
