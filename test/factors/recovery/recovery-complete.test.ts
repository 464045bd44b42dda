import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NextFunction, Request, Response } from 'express';
import supertest from 'supertest';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { totpCode } from '../../helpers/test-app.js';
import { lastCode } from '../email-sms/helpers.js';
import {
  enrolTotpFresh,
  eventsOf,
  makeRecoveryApp,
  type RecoveryApp,
  recover,
  recoveryEmails,
  requestCode,
} from './helpers.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

const complete = (t: RecoveryApp, email: string, code: string) =>
  supertest(t.app).post('/auth/mfa/recovery/complete').send({ email, code });

/** A user with TOTP, a phone and backup codes, signed in and verified in `owner`. */
async function equippedUser(t: RecoveryApp, id: string) {
  const owner = await t.signIn(id);
  const { secret, backupCodes } = await enrolTotpFresh(t, owner);
  await owner.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(200);
  await owner
    .post('/auth/mfa/sms/confirm')
    .send({ code: lastCode(t.sms) })
    .expect(200);
  const status = await owner.get('/auth/mfa/').expect(200);
  assert.deepEqual(status.body.factors, ['totp', 'sms', 'email', 'backup_codes']);
  return { owner, secret, backupCodes };
}

describe('POST /recovery/complete', () => {
  test('removes every factor, ends other sessions, emails a notice and opens a clean, limited session', async () => {
    let logins = 0;
    const t = await makeRecoveryApp(redis.client(), {
      onLogin: () => {
        logins++;
      },
    });
    const { owner, backupCodes } = await equippedUser(t, 'ada');
    await owner.get('/guarded').expect(200);
    // Someone else signed in on this browser before: nothing of that session may be kept.
    const agent = await t.signIn('bystander');
    const before = (await agent.get('/test/session').expect(200)).body;
    assert.equal(before.user.id, 'bystander');
    const code = await requestCode(t, 'ada@example.com');
    const res = await agent
      .post('/auth/mfa/recovery/complete')
      .send({ email: 'ADA@example.com ', code })
      .expect(200);

    const until = t.clock.now() + 15 * 60_000;
    assert.deepEqual(res.body, { ok: true, userId: 'ada', recovery: { until } });
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.match(String(res.headers['set-cookie']), /connect\.sid=/, 'a new session id');
    assert.deepEqual((await agent.get('/test/session').expect(200)).body, {
      mfa: { userId: 'ada', recovery: { until } },
    });
    assert.equal(logins, 0, 'onLogin is not called: the code proves the mailbox, not the password');

    // The old factors are gone; the owner's other session is signed out.
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.deepEqual(status.body.factors, []);
    assert.equal(status.body.backupCodes.remaining, 0);
    assert.deepEqual(status.body.recovery, { until });
    assert.equal(status.body.verifiedAt, null);
    assert.deepEqual(t.ended, ['ada']);
    assert.equal((await owner.get('/guarded').expect(401)).body.error, 'unauthenticated');
    const again = await t.signIn('ada');
    await again.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] }).expect(403);

    const completed = eventsOf(t.events, 'recovery_completed');
    assert.equal(completed.length, 1);
    assert.deepEqual(completed[0]!.type === 'recovery_completed' && completed[0]!.removed, [
      'totp',
      'sms',
      'backup_codes',
    ]);
    const notice = t.email.messages()[0]!;
    assert.equal(notice.to, 'ada@example.com');
    assert.match(notice.subject!, /security notice/);
    assert.match(notice.text, /recovered with a code sent to this address/);
    assert.ok(!JSON.stringify(t.events).includes(code.replaceAll('-', '')));
  });

  test('wrong, malformed, used and expired codes and unknown addresses get one answer', async () => {
    const t = await makeRecoveryApp(redis.client());
    t.addUser('ada');
    const code = await requestCode(t, 'ada@example.com');
    const answers = [
      await complete(t, 'ada@example.com', 'aaaa-bbbb-cccc-dddd'),
      await complete(t, 'ada@example.com', 'nope'),
      await complete(t, 'nobody@example.com', code),
    ];
    await complete(t, 'ada@example.com', code.toUpperCase().replaceAll('-', ' ')).expect(200);
    answers.push(await complete(t, 'ada@example.com', code));
    const late = await requestCode(t, 'ada@example.com');
    t.clock.advance(15 * 60_000);
    answers.push(await complete(t, 'ada@example.com', late));
    for (const res of answers) {
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, {
        error: 'invalid_code',
        message: 'That code is not valid. Check it and try again.',
      });
    }
    for (const body of [
      {},
      { email: 'ada@example.com' },
      { email: 'x', code: 'y' },
      { email: 'a@b.c', code: 5 },
    ]) {
      const res = await supertest(t.app).post('/auth/mfa/recovery/complete').send(body).expect(400);
      assert.equal(res.body.error, 'invalid_request');
    }
  });

  test('20 parallel redemptions of one code: exactly one wins', async () => {
    const t = await makeRecoveryApp(redis.client(), { limits: { maxFailures: 50 } });
    t.addUser('ada');
    const code = await requestCode(t, 'ada@example.com');
    const results = await Promise.all(Array.from({ length: 20 }, () => complete(t, 'ada@example.com', code)));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, ...Array.from({ length: 19 }, () => 401)]);
    assert.equal(eventsOf(t.events, 'recovery_completed').length, 1);
  });

  test('failures count per normalised address typed, known or not, and lock it with the same answer', async () => {
    const t = await makeRecoveryApp(redis.client(), { limits: { lockoutMs: 60_000 } });
    t.addUser('ada');
    const code = await requestCode(t, 'ada@example.com');
    const wrong = 'aaaa-bbbb-cccc-dddd';
    for (const address of ['ada@example.com', 'nobody@example.com']) {
      const typed = [address, address.toUpperCase(), ` ${address}`, address, address];
      for (const [i, as] of typed.entries()) {
        const res = await complete(t, as, wrong).expect(401);
        assert.equal(res.body.error, 'invalid_code', `attempt ${i + 1}`);
      }
    }
    const known = await complete(t, 'ada@example.com', code).expect(429);
    const unknown = await complete(t, 'nobody@example.com', code).expect(429);
    assert.deepEqual(known.body, unknown.body);
    assert.equal(known.headers['retry-after'], '60');
    assert.equal(known.body.retryAfter, 60);
    // Another address is not affected.
    t.addUser('bob');
    await complete(t, 'bob@example.com', await requestCode(t, 'bob@example.com')).expect(200);
    // The owner heard about the guesses at their code; nobody heard about the unknown address.
    assert.deepEqual(
      t.events
        .filter((e) => e.type === 'recovery_failed' || e.type === 'recovery_locked')
        .map((e) => `${e.userId}:${e.type}`),
      [
        'ada:recovery_failed',
        'ada:recovery_failed',
        'ada:recovery_failed',
        'ada:recovery_failed',
        'ada:recovery_failed',
        'ada:recovery_locked',
      ],
    );
    // A new code does not reset the count, and is not even sent while locked.
    await supertest(t.app).post('/auth/mfa/recovery/start').send({ email: 'ada@example.com' }).expect(202);
    t.clock.advance(60_000);
    await complete(t, 'ada@example.com', code).expect(200);
  });

  test('the account must still use the address: a code for a changed address does not work', async () => {
    const t = await makeRecoveryApp(redis.client());
    t.addUser('ada');
    const code = await requestCode(t, 'ada@example.com');
    t.directory.set('ada@example.com', { id: 'someone-else', email: 'ada@example.com' });
    await complete(t, 'ada@example.com', code).expect(401);
  });

  test('when endSessions fails nothing changes: 503, factors kept', async () => {
    const t = await makeRecoveryApp(redis.client(), {
      endSessions: () => {
        throw new Error('session store down');
      },
    });
    const { owner } = await equippedUser(t, 'ada');
    const code = await requestCode(t, 'ada@example.com');
    const original = console.error;
    console.error = () => {};
    try {
      const res = await complete(t, 'ada@example.com', code).expect(503);
      assert.equal(res.body.error, 'unavailable');
      assert.match(res.body.message, /new recovery code/);
    } finally {
      console.error = original;
    }
    assert.deepEqual((await owner.get('/auth/mfa/').expect(200)).body.factors, [
      'totp',
      'sms',
      'email',
      'backup_codes',
    ]);
    assert.equal(eventsOf(t.events, 'recovery_completed').length, 0);
  });

  test('when the new session cannot be saved, the removal of the factors is still audited and notified', async () => {
    const t = await makeRecoveryApp(redis.client(), {
      endSessions: async (_userId, req) => {
        // The session store goes down right after the other sessions were ended.
        req.sessionStore.set = (_sid, _data, cb) => cb?.(new Error('session store down'));
      },
    });
    // The app's own logger: express-session's failed save at the end of the 503 lands here, not on stderr.
    const logged: unknown[] = [];
    t.app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
      logged.push(err);
      if (!res.headersSent) next(err);
    });
    await equippedUser(t, 'bea');
    const code = await requestCode(t, 'bea@example.com');
    const res = await complete(t, 'bea@example.com', code).expect(503);
    assert.equal(res.body.error, 'unavailable');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      logged.map((e) => (e as Error).message),
      ['session store down'],
    );
    assert.equal(eventsOf(t.events, 'recovery_completed').length, 1);
    assert.deepEqual(await t.mfa.factors('bea'), []);
  });

  test('without endSessions, recovery still works (other sessions last until they expire)', async () => {
    const t = await makeRecoveryApp(redis.client(), { endSessions: undefined });
    const { owner } = await equippedUser(t, 'ada');
    await recover(t, 'ada@example.com');
    await owner.get('/guarded').expect(200);
  });

  test('after recovery the user enrols a new authenticator and signs in with it', async () => {
    const t = await makeRecoveryApp(redis.client());
    const { secret: lost } = await equippedUser(t, 'ada');
    const { agent } = await recover(t, 'ada@example.com');
    const setup = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    const confirm = await agent
      .post('/auth/mfa/totp/confirm')
      .send({ code: totpCode(setup.body.secret, t.clock) })
      .expect(200);
    assert.equal(confirm.body.backupCodes.length, 10, 'a first factor again: new backup codes');
    assert.equal(recoveryEmails(t.email).length, 1);

    const login = await t.signIn('ada');
    const guard = await login.get('/guarded').expect(401);
    assert.deepEqual(guard.body.factors, ['totp', 'email', 'backup_codes']);
    t.clock.advance(60_000);
    await login
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(lost, t.clock) })
      .expect(401);
    await login
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(setup.body.secret, t.clock) })
      .expect(200);
    await login.get('/guarded').expect(200);
  });
});
