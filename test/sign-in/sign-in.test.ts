import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import supertest from 'supertest';
import { outboxEmail } from '../../lib/index.js';
import { lastCode, verifyByEmail } from '../factors/email-sms/helpers.js';
import { fileRedis, makeSignInApp, sessionCookie } from '../helpers/sign-in-app.js';
import { enrolTotp, totpCode, wrongCode } from '../helpers/test-app.js';

const redisClient = fileRedis();

/** An app where `userId` has TOTP (enrolled in a session of its own), and its secret. */
async function withTotp(userId: string, overrides: Parameters<typeof makeSignInApp>[1] = {}) {
  const t = await makeSignInApp(redisClient(), overrides);
  const { secret, backupCodes } = await enrolTotp(await t.signIn(userId), t.clock);
  // The enrolment used this step's code: sign-ins start a step later.
  t.clock.advance(30_000);
  return { t, secret, backupCodes };
}

describe('mfa.signIn', () => {
  test('signs in a user without a factor at once, through onLogin (enrolment optional)', async () => {
    const t = await makeSignInApp(redisClient());
    const { agent, res } = await t.password('ann');
    assert.deepEqual(res.body, { status: 'signed_in' });
    assert.deepEqual((await agent.get('/test/me').expect(200)).body.user, {
      id: 'ann',
      email: 'ann@example.com',
    });
    assert.equal(t.logins.get('ann'), 1);
    assert.ok(t.events.some((e) => e.type === 'sign_in' && e.outcome === 'signed_in' && e.userId === 'ann'));
  });

  test('a user with a factor gets a pending session: nobody to the app, 401 at the guard, completed by the code', async () => {
    const { t, secret } = await withTotp('bob');
    const { agent, res } = await t.password('bob');
    assert.deepEqual(res.body, { status: 'mfa_required', factors: ['totp', 'backup_codes'] });
    assert.equal(t.logins.get('bob'), undefined);
    assert.equal((await agent.get('/test/me').expect(200)).body.user, null);
    const guarded = await agent.get('/guarded').expect(401);
    assert.equal(guarded.body.error, 'unauthenticated');
    await agent.get('/guarded-once').expect(401);

    const status = await agent.get('/auth/mfa/').expect(200);
    assert.equal(status.body.userId, 'bob');
    assert.deepEqual(status.body.factors, ['totp', 'backup_codes']);
    assert.equal(status.body.signIn.stage, 'pending');
    assert.equal(status.body.signIn.until, t.clock.now() + 5 * 60_000);
    assert.equal(status.body.verified, false);

    const ok = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    assert.equal(ok.body.signedIn, true);
    assert.equal(ok.body.verifiedAt, t.clock.now());
    assert.equal(t.logins.get('bob'), 1);
    assert.equal((await agent.get('/test/me').expect(200)).body.user.id, 'bob');
    await agent.get('/guarded').expect(200);
    const after = await agent.get('/auth/mfa/').expect(200);
    assert.equal(after.body.signIn, null);
    assert.deepEqual(after.body.factors, ['totp', 'backup_codes']);
    assert.ok(t.events.some((e) => e.type === 'sign_in_completed' && e.factor === 'totp'));
  });

  test('a pending session may only read the status, verify and send: every other route is 403 mfa_pending', async () => {
    const { t } = await withTotp('cid');
    const { agent } = await t.password('cid');
    const refused = [
      agent.post('/auth/mfa/totp/setup').send({}),
      agent.post('/auth/mfa/totp/confirm').send({ code: '123456' }),
      agent.delete('/auth/mfa/totp').send({}),
      agent.post('/auth/mfa/backup-codes').send({}),
    ];
    for (const res of await Promise.all(refused)) {
      assert.equal(res.status, 403, res.text);
      assert.equal(res.body.error, 'mfa_pending');
      assert.match(res.body.message, /second factor/);
    }
    // Still pending afterwards: the refusals changed nothing.
    assert.equal((await agent.get('/auth/mfa/').expect(200)).body.signIn.stage, 'pending');
  });

  test('fixation: neither a planted session id nor the pending one survives into the signed-in session', async () => {
    const { t, secret } = await withTotp('dee');
    // The attacker's own session, planted in the victim's browser.
    const agent = await t.signIn('mallory');
    const planted = (await agent.get('/test/me')).request.getHeader?.('cookie');
    const { res: pendingRes } = await t.password('dee', agent);
    const pending = sessionCookie(pendingRes);
    assert.ok(pending);
    assert.notEqual(pending, planted);
    const verified = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    const signedIn = sessionCookie(verified);
    assert.ok(signedIn);
    assert.notEqual(signedIn, pending);
    // The pending session is gone: its cookie is nobody, and cannot verify again.
    const stale = supertest(t.app);
    assert.equal((await stale.get('/test/me').set('Cookie', pending).expect(200)).body.user, null);
    const again = await stale
      .post('/auth/mfa/totp/verify')
      .set('Cookie', pending)
      .send({ code: totpCode(secret, t.clock, 30_000) });
    assert.equal(again.status, 401);
    assert.equal(again.body.error, 'unauthenticated');
    assert.equal(t.logins.get('dee'), 1);
  });

  test('a pending session expires after signIn.pendingTtlMs on the injected clock', async () => {
    const { t, secret } = await withTotp('eli', { signIn: { pendingTtlMs: 60_000 } });
    const { agent } = await t.password('eli');
    t.clock.advance(60_001);
    const late = await agent.post('/auth/mfa/totp/verify').send({ code: totpCode(secret, t.clock) });
    assert.equal(late.status, 401);
    assert.equal(late.body.error, 'unauthenticated');
    assert.equal((await agent.get('/auth/mfa/')).status, 401);
    assert.equal(t.logins.get('eli'), undefined);
  });

  test('the attempt limit is shared by every sign-in and by step-up: a new sign-in does not reset it', async () => {
    const { t, secret } = await withTotp('fin');
    const first = await t.password('fin');
    for (let i = 0; i < 5; i++) {
      const res = await first.agent
        .post('/auth/mfa/totp/verify')
        .send({ code: wrongCode(secret, t.clock, i) });
      assert.equal(res.status, 401);
    }
    assert.equal(
      (await first.agent.post('/auth/mfa/totp/verify').send({ code: totpCode(secret, t.clock) })).status,
      429,
    );
    // A brand-new sign-in, in another browser: still locked, even with the right code.
    const second = await t.password('fin');
    const locked = await second.agent.post('/auth/mfa/totp/verify').send({ code: totpCode(secret, t.clock) });
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers['retry-after']) > 0);
    // And a session the app signed in some other way, at step-up.
    const direct = await t.signIn('fin');
    assert.equal(
      (await direct.post('/auth/mfa/totp/verify').send({ code: totpCode(secret, t.clock) })).status,
      429,
    );
    assert.equal(t.logins.get('fin'), undefined);
  });

  test('20 parallel verifications of one code on one pending session sign in exactly once', async () => {
    const { t, secret } = await withTotp('gus');
    const { res } = await t.password('gus');
    const cookie = sessionCookie(res)!;
    const code = totpCode(secret, t.clock);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        supertest(t.app).post('/auth/mfa/totp/verify').set('Cookie', cookie).send({ code }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
    // The losers are counted as failures (a replayed step is a wrong code), so the limit soon answers 429.
    assert.ok(
      statuses.every((s) => s === 200 || s === 401 || s === 429),
      statuses.join(','),
    );
    assert.equal(t.logins.get('gus'), 1);
  });

  test('a backup code completes a sign-in too, and is used up', async () => {
    const { t, backupCodes } = await withTotp('hal');
    const { agent } = await t.password('hal');
    const ok = await agent.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] }).expect(200);
    assert.equal(ok.body.signedIn, true);
    assert.equal(ok.body.remaining, 9);
    assert.equal((await agent.get('/test/me')).body.user.id, 'hal');
    const { agent: again } = await t.password('hal');
    assert.equal(
      (await again.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] })).status,
      401,
    );
  });

  test('onLogin failing leaves nobody signed in, half or whole', async () => {
    const { t, secret } = await withTotp('ivy', {
      onLogin: (req, userId) => {
        req.session.user = { id: userId };
        throw new Error('the app failed');
      },
    });
    const { agent } = await t.password('ivy');
    const res = await agent.post('/auth/mfa/totp/verify').send({ code: totpCode(secret, t.clock) });
    assert.equal(res.status, 500);
    assert.match(t.logged.join('\n'), /unexpected error .*the app failed/);
    assert.equal((await agent.get('/test/me').expect(200)).body.user, null);
    assert.equal((await agent.get('/guarded')).status, 401);
  });

  test('onLogin that does not sign the user in is refused, not half signed in', async () => {
    const { t, secret } = await withTotp('jon', { onLogin: () => {} });
    const { agent } = await t.password('jon');
    assert.equal(
      (await agent.post('/auth/mfa/totp/verify').send({ code: totpCode(secret, t.clock) })).status,
      500,
    );
    assert.match(t.logged.join('\n'), /getUser\(req\) must return that user/);
    assert.equal((await agent.get('/test/me').expect(200)).body.user, null);
  });

  test('email codes count at sign-in only with signIn.emailCodes', async () => {
    // Email is every user's implicit factor, but by default not a second one at sign-in.
    const off = await makeSignInApp(redisClient(), { email: outboxEmail({ log: false }) });
    assert.deepEqual((await off.password('kim')).res.body, { status: 'signed_in' });
    const kitMail = outboxEmail({ log: false });
    const offWithTotp = await makeSignInApp(redisClient(), { email: kitMail });
    const kit = await offWithTotp.signIn('kit');
    // Email is a factor already, so adding TOTP needs a fresh verification by email first.
    await verifyByEmail(kit, kitMail);
    await enrolTotp(kit, offWithTotp.clock);
    offWithTotp.clock.advance(30_000);
    const pendingOff = await offWithTotp.password('kit');
    assert.deepEqual(pendingOff.res.body.factors, ['totp', 'backup_codes']);
    const refused = await pendingOff.agent.post('/auth/mfa/email/send').send({});
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'mfa_pending');

    const email = outboxEmail({ log: false });
    const on = await makeSignInApp(redisClient(), { email, signIn: { emailCodes: true } });
    const { agent, res } = await on.password('lee');
    assert.deepEqual(res.body, { status: 'mfa_required', factors: ['email'] });
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    const ok = await agent
      .post('/auth/mfa/email/verify')
      .send({ code: lastCode(email) })
      .expect(200);
    assert.equal(ok.body.signedIn, true);
    assert.equal((await agent.get('/test/me')).body.user.id, 'lee');
  });

  test('step-up is unchanged: a signed-in session is elevated, not signed in again', async () => {
    const { t, secret } = await withTotp('max');
    const agent = await t.signIn('max');
    const ok = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    assert.equal(ok.body.signedIn, undefined);
    assert.equal(t.logins.get('max'), undefined);
    await agent.get('/guarded').expect(200);
  });

  test('numeric ids (SQL ids through Passport) are the same user as their string', async () => {
    const { t, secret } = await withTotp('42');
    const agent = supertest.agent(t.app);
    t.app.post('/test/password-numeric', async (req, res, next) => {
      try {
        res.json(await t.mfa.signIn(req, res, { id: 42, email: '42@example.com' }));
      } catch (error) {
        next(error);
      }
    });
    const pending = await agent.post('/test/password-numeric').expect(200);
    assert.deepEqual(pending.body, { status: 'mfa_required', factors: ['totp', 'backup_codes'] });
    const ok = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    assert.equal(ok.body.signedIn, true);
    assert.equal(t.logins.get('42'), 1);
  });

  test('signIn without onLogin, or with a malformed user, is a clear programming error', async () => {
    const t = await makeSignInApp(redisClient(), { onLogin: undefined });
    const res = await supertest(t.app).post('/test/password?id=x');
    assert.equal(res.status, 500);
    const t2 = await makeSignInApp(redisClient());
    await assert.rejects(
      t2.mfa.signIn({ session: {} } as never, {} as never, { id: '' }),
      /needs the user as \{ id: string \| number/,
    );
    await assert.rejects(
      t.mfa.signIn({ session: {} } as never, {} as never, { id: 'x' }),
      /needs the onLogin option/,
    );
  });
});
