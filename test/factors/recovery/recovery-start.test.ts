import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import supertest from 'supertest';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import {
  captureConsole,
  codeIn,
  enrolTotpFresh,
  eventsOf,
  eventually,
  failingEmail,
  makeRecoveryApp,
  recoveryEmails,
  requestCode,
  settle,
} from './helpers.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

const start = (app: Parameters<typeof supertest>[0], email: unknown) =>
  supertest(app).post('/auth/mfa/recovery/start').send({ email });

/** Status, body and every header but the date: what an attacker can compare. */
function observable(res: supertest.Response) {
  const { date: _date, ...headers } = res.headers;
  return { status: res.status, body: res.body, headers };
}

describe('POST /recovery/start', () => {
  test('answers the same for an unknown address, an account, one without an email and a locked one', async () => {
    const t = await makeRecoveryApp(redis.client());
    t.addUser('ada');
    t.directory.set('noemail@example.com', { id: 'noemail' });
    t.addUser('lou');
    // Lock lou's address: 5 wrong codes.
    for (let i = 0; i < 5; i++) {
      await supertest(t.app)
        .post('/auth/mfa/recovery/complete')
        .send({ email: 'lou@example.com', code: 'aaaa-aaaa-aaaa-aaaa' })
        .expect(401);
    }
    // A signed-in visitor with a session cookie: still nothing is set.
    const visitor = await t.signIn('vic');
    const answers = [
      await start(t.app, 'nobody@example.com'),
      await start(t.app, 'ada@example.com'),
      await start(t.app, 'ADA@Example.com '),
      await start(t.app, 'noemail@example.com'),
      await start(t.app, 'lou@example.com'),
      await visitor.post('/auth/mfa/recovery/start').send({ email: 'nobody@example.com' }),
    ];
    const first = observable(answers[0]!);
    assert.equal(first.status, 202);
    assert.deepEqual(first.body, {
      ok: true,
      message: 'If an account uses this address, we have emailed it a recovery code.',
    });
    assert.equal(first.headers['cache-control'], 'no-store');
    for (const res of answers) {
      assert.deepEqual(observable(res), first);
      assert.equal(res.headers['set-cookie'], undefined, 'no session is created or touched');
    }
    await eventually(() => eventsOf(t.events, 'recovery_requested').length === 4, 'the background work');
    assert.deepEqual(
      eventsOf(t.events, 'recovery_requested')
        .map((e) => `${e.userId}:${e.type === 'recovery_requested' && e.outcome}`)
        .sort(),
      ['ada:sent', 'ada:sent', 'lou:locked', 'noemail:no_email'],
    );
    assert.equal(recoveryEmails(t.email).length, 2);
    assert.ok(recoveryEmails(t.email).every((m) => m.to === 'ada@example.com'));
    assert.deepEqual(t.lookups.slice(-6).sort(), [
      'ada@example.com',
      'ada@example.com',
      'lou@example.com',
      'nobody@example.com',
      'nobody@example.com',
      'noemail@example.com',
    ]);
  });

  test('answers before looking the account up or sending: a slow lookup or sender cannot show in the timing', async () => {
    let release: () => void = () => {};
    const lookup = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sends: string[] = [];
    const t = await makeRecoveryApp(redis.client(), {
      codes: { sendTimeoutMs: 1000 },
      // A sender that never finishes.
      email: {
        send: (message) => {
          sends.push(message.to);
          return new Promise<void>(() => {});
        },
      },
      findUserByEmail: async (email) => {
        await lookup;
        return email === 'ada@example.com' ? { id: 'ada', email } : undefined;
      },
    });
    const began = Date.now();
    await start(t.app, 'ada@example.com').expect(202);
    await start(t.app, 'nobody@example.com').expect(202);
    assert.ok(Date.now() - began < 1000, 'answered while the lookup was still pending');
    release();
    await eventually(() => sends.length === 1, 'the send to begin');
    assert.deepEqual(sends, ['ada@example.com']);
    assert.equal(eventsOf(t.events, 'recovery_requested').length, 0, 'still sending');
    // Given up after codes.sendTimeoutMs, in the background.
    await eventually(() => eventsOf(t.events, 'recovery_requested').length === 1, 'the timeout', 3000);
    assert.deepEqual(
      t.events.map((e) => (e.type === 'delivery_failed' ? e.reason : e.type)),
      ['timeout', 'recovery_requested'],
    );
  });

  test('emails an 80-bit, human-friendly, single-use code to the address on file, never into logs or events', async () => {
    const t = await makeRecoveryApp(redis.client());
    t.addUser('ada', 'Ada@Example.com');
    let code = '';
    const logged = await captureConsole(async () => {
      await start(t.app, 'ada@example.com').expect(202);
      await eventually(() => recoveryEmails(t.email).length === 1, 'the recovery email');
      const message = recoveryEmails(t.email)[0]!;
      code = codeIn(message.text);
      await supertest(t.app)
        .post('/auth/mfa/recovery/complete')
        .send({ email: 'ada@example.com', code: 'zzzz' })
        .expect(401);
      await supertest(t.app)
        .post('/auth/mfa/recovery/complete')
        .send({ email: 'ada@example.com', code })
        .expect(200);
    });
    const message = recoveryEmails(t.email)[0]!;
    assert.equal(message.to, 'Ada@Example.com', 'the address on file, not the one typed');
    assert.match(message.subject!, /^Recover your Acme account$/);
    assert.match(code, /^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/, 'Crockford base32: 80 bits');
    assert.match(message.text, /expires in 15 minutes and works once/);
    assert.ok(!message.subject!.includes(code));
    const bare = code.replaceAll('-', '');
    for (const text of [logged, JSON.stringify(t.events)]) {
      assert.ok(!text.includes(code) && !text.includes(bare), 'the code leaked');
    }
    const sent = t.events.find((e) => e.type === 'message_sent');
    assert.deepEqual(sent && { purpose: sent.purpose, to: sent.to }, {
      purpose: 'recovery',
      to: 'A***@Example.com',
    });
  });

  test('stores the code only as a keyed hash with a 15 minute TTL, in keys that never name the address', async () => {
    const client = redis.client();
    const t = await makeRecoveryApp(client, { prefix: 'rk:' });
    t.addUser('ada');
    const code = await requestCode(t, 'ada@example.com');
    const keys = await client.keys('rk:*');
    for (const key of keys) {
      assert.ok(!key.includes('ada@example.com'), `${key} names the address`);
      const value = (await client.type(key)) === 'string' ? await client.get(key) : '';
      assert.ok(
        !value?.includes(code) && !value?.includes(code.replaceAll('-', '')),
        `${key} holds the code`,
      );
    }
    const codeKey = keys.find((k) => /\{e:[\w-]+\}:recovery:code$/.test(k));
    assert.ok(codeKey, 'the code key is tagged by the address hash');
    const ttl = await client.pttl(codeKey);
    assert.ok(ttl > 14 * 60_000 && ttl <= 15 * 60_000, `TTL ${ttl}`);
  });

  test('a new request voids the previous code; a code expires after 15 minutes', async () => {
    const t = await makeRecoveryApp(redis.client());
    t.addUser('ada');
    const first = await requestCode(t, 'ada@example.com');
    const second = await requestCode(t, 'ada@example.com');
    const complete = (code: string) =>
      supertest(t.app).post('/auth/mfa/recovery/complete').send({ email: 'ada@example.com', code });
    assert.equal((await complete(first).expect(401)).body.error, 'invalid_code');
    t.clock.advance(15 * 60_000);
    assert.equal((await complete(second).expect(401)).body.error, 'invalid_code');
    const third = await requestCode(t, 'ada@example.com');
    t.clock.advance(15 * 60_000 - 1);
    await complete(third).expect(200);
  });

  test('at most 10 requests an hour per client, answered 429 for every address alike', async () => {
    const t = await makeRecoveryApp(redis.client());
    t.addUser('ada');
    for (let i = 0; i < 10; i++)
      await start(t.app, i % 2 ? 'ada@example.com' : `x${i}@example.com`).expect(202);
    const known = await start(t.app, 'ada@example.com').expect(429);
    const unknown = await start(t.app, 'nobody@example.com').expect(429);
    assert.deepEqual(observable(known), observable(unknown));
    assert.equal(known.body.error, 'too_many_attempts');
    assert.equal(known.headers['retry-after'], '3600');
    t.clock.advance(60 * 60_000);
    await start(t.app, 'ada@example.com').expect(202);
  });

  test('at most 5 emails an hour per account: further requests are answered alike and send nothing', async () => {
    const t = await makeRecoveryApp(redis.client());
    t.addUser('ada');
    for (let i = 0; i < 7; i++) await start(t.app, 'ada@example.com').expect(202);
    await eventually(() => eventsOf(t.events, 'recovery_requested').length === 7, 'the background work');
    assert.equal(recoveryEmails(t.email).length, 5);
    assert.deepEqual(
      // The work runs in the background, so the outcomes may arrive in any order.
      eventsOf(t.events, 'recovery_requested')
        .map((e) => e.type === 'recovery_requested' && e.outcome)
        .sort(),
      ['rate_limited', 'rate_limited', 'sent', 'sent', 'sent', 'sent', 'sent'],
    );
    t.clock.advance(60 * 60_000);
    await requestCode(t, 'ada@example.com');
  });

  test('a failed send deletes the code and is reported as events, still answered 202', async () => {
    const t = await makeRecoveryApp(redis.client(), { email: failingEmail() });
    t.addUser('ada');
    await start(t.app, 'ada@example.com').expect(202);
    await eventually(() => eventsOf(t.events, 'recovery_requested').length === 1, 'the background work');
    assert.deepEqual(
      t.events.map((e) => e.type),
      ['delivery_failed', 'recovery_requested'],
    );
    const requested = t.events[1]!;
    assert.equal(requested.type === 'recovery_requested' && requested.outcome, 'failed');
  });

  test('a throwing findUserByEmail is logged without detail for the client, and the app keeps running', async () => {
    const t = await makeRecoveryApp(redis.client(), {
      findUserByEmail: () => {
        throw new Error('directory down');
      },
    });
    const logged = await captureConsole(async () => {
      await start(t.app, 'ada@example.com').expect(202);
      await settle();
      await start(t.app, 'ada@example.com').expect(202);
      await settle();
    });
    assert.match(logged, /express-mfa: a recovery request failed[\s\S]*directory down/);
  });

  test('bad input is a 400 (the same whoever asks), a form a 415', async () => {
    const t = await makeRecoveryApp(redis.client());
    for (const email of [
      undefined,
      3,
      null,
      '',
      'not-an-address',
      'a b@example.com',
      `${'a'.repeat(250)}@example.com`,
    ]) {
      const res = await start(t.app, email).expect(400);
      assert.equal(res.body.error, 'invalid_request');
    }
    await supertest(t.app).post('/auth/mfa/recovery/start').type('form').send('email=a@b.c').expect(415);
  });

  test('a locked factor does not stop the email: recovery is for users who cannot use their factors', async () => {
    const t = await makeRecoveryApp(redis.client());
    const agent = await t.signIn('ada');
    await enrolTotpFresh(t, agent);
    for (let i = 0; i < 5; i++) await agent.post('/auth/mfa/totp/verify').send({ code: '000000' });
    await agent.post('/auth/mfa/totp/verify').send({ code: '000000' }).expect(429);
    await requestCode(t, 'ada@example.com');
  });
});
