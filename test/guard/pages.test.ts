import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import supertest from 'supertest';
import { type MfaError, MINUTE, type Outbox, outboxEmail, outboxSms } from '../../lib/index.js';
import { newAuthenticator, registerPasskey } from '../factors/webauthn/webauthn-test-app.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { enrolTotp, totpCode } from '../helpers/test-app.js';
import { makeGuardApp } from './guard-test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

/** What a browser sends when it navigates to a page. */
const NAVIGATION = {
  Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'Sec-Fetch-Mode': 'navigate',
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A server-rendered app: an account page behind the guard and a verify page that comes back. */
function pagesApp(pages: { verify: string; enrol?: string } = { verify: '/verify', enrol: '/setup' }) {
  return makeGuardApp(
    redis.client(),
    (mfa, app) => {
      app.get('/account', mfa.requireMfa(5 * MINUTE), (_req, res) => {
        res.type('html').send('<h1>Account</h1>');
      });
      app.get('/verify', (req, res) => {
        // The page posts the code with this returnTo, then goes where the answer says.
        res.type('html').send(`<form data-return-to="${escapeHtml(mfa.returnTo(req))}"></form>`);
      });
      app.post('/api/transfer', mfa.requireMfa(5 * MINUTE), (_req, res) => {
        res.json({ ok: true });
      });
      app.get('/api/balance', mfa.requireMfa(5 * MINUTE), (_req, res) => {
        res.json({ ok: true });
      });
    },
    { pages },
  );
}

describe('browser pages', () => {
  test('a refused HTML navigation gets 303 to the verify page with returnTo; API calls keep JSON', async () => {
    const t = await pagesApp();
    await enrolTotp(await t.signIn('ada'), t.clock);
    const agent = await t.signIn('ada');

    const page = await agent.get('/account?tab=security&x=%2F').set(NAVIGATION).expect(303);
    assert.equal(page.headers.location, '/verify?returnTo=%2Faccount%3Ftab%3Dsecurity%26x%3D%252F');
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(String(page.headers.vary), /Accept/);
    const head = await agent.head('/account').set(NAVIGATION).expect(303);
    assert.equal(head.headers.location, '/verify?returnTo=%2Faccount');
    // Without Sec-Fetch-Mode (older browsers), Accept alone decides.
    await agent.get('/account').set('Accept', 'text/html').expect(303);

    const json = async (request: supertest.Test) => {
      const res = await request.expect(401);
      assert.equal(res.body.error, 'mfa_required');
      assert.equal(res.headers.location, undefined);
      return res;
    };
    const api = await json(agent.get('/api/balance').set('Accept', 'application/json'));
    assert.match(String(api.headers.vary), /Accept/);
    await json(agent.get('/api/balance')); // no Accept at all
    await json(agent.get('/api/balance').set('Accept', '*/*')); // fetch()'s default
    await json(agent.get('/account').set({ ...NAVIGATION, 'Sec-Fetch-Mode': 'cors' })); // fetch() asking for HTML
    await json(agent.get('/account').set({ Accept: 'text/html', 'X-Requested-With': 'XMLHttpRequest' }));
    await json(agent.get('/account').set('Accept', 'application/json, text/html;q=0.5'));
    await json(agent.post('/api/transfer').set(NAVIGATION).send({})); // only GET and HEAD navigate
  });

  test('no acceptable factor goes to the enrol page (the verify page when none is set); others stay JSON', async () => {
    const t = await pagesApp();
    const agent = await t.signIn('bob');
    const res = await agent.get('/account').set(NAVIGATION).expect(303);
    assert.equal(res.headers.location, '/setup?returnTo=%2Faccount');
    const anonymous = await supertest(t.app).get('/account').set(NAVIGATION).expect(401);
    assert.equal(anonymous.body.error, 'unauthenticated');

    const verifyOnly = await pagesApp({ verify: '/verify?step=mfa' });
    const other = await verifyOnly.signIn('bob');
    const sent = await other.get('/account').set(NAVIGATION).expect(303);
    assert.equal(sent.headers.location, '/verify?step=mfa&returnTo=%2Faccount');
  });

  test('server-rendered round trip: guarded page, verify page, verification with returnTo, and back', async () => {
    const t = await pagesApp();
    const { secret } = await enrolTotp(await t.signIn('cyd'), t.clock);
    const agent = await t.signIn('cyd');
    const sent = await agent.get('/account?tab=passkeys').set(NAVIGATION).expect(303);
    const verifyPage = await agent.get(sent.headers.location!).set(NAVIGATION).expect(200);
    const returnTo = /data-return-to="([^"]*)"/.exec(verifyPage.text)?.[1];
    assert.equal(returnTo, '/account?tab=passkeys');
    t.clock.advance(60_000);
    const verified = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock), returnTo })
      .expect(200);
    assert.deepEqual(verified.body, {
      ok: true,
      verifiedAt: t.clock.now(),
      returnTo: '/account?tab=passkeys',
    });
    const back = await agent.get(verified.body.returnTo).set(NAVIGATION).expect(200);
    assert.equal(back.text, '<h1>Account</h1>');

    // A hostile link to the verify page gets '/' to go back to.
    for (const hostile of ['//evil.com', '/%5Cevil.com', 'https://evil.com/x', '/\\evil.com']) {
      const res = await agent.get(`/verify?returnTo=${encodeURIComponent(hostile)}`).expect(200);
      assert.match(res.text, /data-return-to="\/"/, hostile);
    }
  });
});

describe('onRequired', () => {
  test("createMfa's onRequired answers every guard's refusals (before pages); a guard's own wins", async () => {
    const seen: MfaError[] = [];
    const t = await makeGuardApp(
      redis.client(),
      (mfa, app) => {
        app.get('/default', mfa.requireMfa(5 * MINUTE), (_req, res) => {
          res.json({ ok: true });
        });
        app.get(
          '/own',
          mfa.requireMfa(5 * MINUTE, {
            onRequired: (_req, res, error) => {
              res.status(error.status).json({ problem: error.code, offer: error.extra.factors });
            },
          }),
          (_req, res) => {
            res.json({ ok: true });
          },
        );
        app.get(
          '/broken',
          mfa.requireMfa(5 * MINUTE, {
            onRequired: async () => Promise.reject(new Error('template missing')),
          }),
          (_req, res) => {
            res.json({ ok: true });
          },
        );
      },
      {
        pages: { verify: '/verify' },
        onRequired: async (_req, res, error) => {
          seen.push(error);
          await new Promise((resolve) => setImmediate(resolve));
          res.status(error.status).type('html').send(`<p>${error.code}</p>`);
        },
      },
    );
    const anonymous = await supertest(t.app).get('/default').set(NAVIGATION).expect(401);
    assert.equal(anonymous.text, '<p>unauthenticated</p>');
    await enrolTotp(await t.signIn('dee'), t.clock);
    const agent = await t.signIn('dee');
    const res = await agent.get('/default').set(NAVIGATION).expect(401);
    assert.equal(res.text, '<p>mfa_required</p>');
    assert.equal(seen.at(-1)?.code, 'mfa_required');
    assert.deepEqual(seen.at(-1)?.extra.factors, ['totp', 'backup_codes']);
    const own = await agent.get('/own').expect(401);
    assert.deepEqual(own.body, { problem: 'mfa_required', offer: ['totp', 'backup_codes'] });
    assert.equal(seen.length, 2);
    await agent.get('/broken').expect(500);
    assert.equal((t.errors.at(-1) as Error).message, 'template missing');
    // The pass path never calls it.
    await agent.get('/session-only').expect(200);
  });
});

describe('verify routes echo a validated returnTo', () => {
  test('TOTP, backup codes, passkeys, email and SMS; hostile values echo "/"; a non-string is a 400', async () => {
    const email = outboxEmail({ log: false });
    const sms = outboxSms({ log: false });
    const t = await makeGuardApp(redis.client(), () => {}, { email, sms });
    const lastCode = (outbox: Outbox) => /\b(\d{6,10})\b/.exec(outbox.messages()[0]?.text ?? '')?.[1];
    const agent = await t.signIn('eve');

    // Email (implicit factor): the first verification, with returnTo.
    await agent.post('/auth/mfa/email/send').send({}).expect(200);
    const byEmail = await agent
      .post('/auth/mfa/email/verify')
      .send({ code: lastCode(email), returnTo: '/settings' })
      .expect(200);
    assert.deepEqual(byEmail.body, { ok: true, verifiedAt: t.clock.now(), returnTo: '/settings' });

    const { secret, backupCodes } = await enrolTotp(agent, t.clock);
    const authenticator = newAuthenticator();
    assert.equal((await registerPasskey(agent, authenticator)).res.status, 200);
    await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(200);
    await agent
      .post('/auth/mfa/sms/confirm')
      .send({ code: lastCode(sms) })
      .expect(200);

    t.clock.advance(60_000);
    const byTotp = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock), returnTo: '//evil.com' })
      .expect(200);
    assert.equal(byTotp.body.returnTo, '/');
    const byBackup = await agent
      .post('/auth/mfa/backup-codes/verify')
      .send({ code: backupCodes[0], returnTo: '/a?b=c' })
      .expect(200);
    assert.deepEqual(byBackup.body, {
      ok: true,
      verifiedAt: t.clock.now(),
      remaining: 9,
      returnTo: '/a?b=c',
    });
    const options = await agent.post('/auth/mfa/webauthn/verify/options').send({}).expect(200);
    const response = authenticator.getAssertion(options.body);
    const byPasskey = await agent
      .post('/auth/mfa/webauthn/verify/verify')
      .send({ response, returnTo: '/%2F%2Fevil.com' })
      .expect(200);
    assert.equal(byPasskey.body.returnTo, '/');
    t.clock.advance(31_000);
    await agent.post('/auth/mfa/sms/send').send({}).expect(200);
    const bySms = await agent
      .post('/auth/mfa/sms/verify')
      .send({ code: lastCode(sms), returnTo: '/billing' })
      .expect(200);
    assert.equal(bySms.body.returnTo, '/billing');

    // Without returnTo the answer is exactly as before; a returnTo that is no string is a 400, not counted.
    t.clock.advance(60_000);
    const bad = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock), returnTo: ['/a'] })
      .expect(400);
    assert.equal(bad.body.error, 'invalid_request');
    assert.match(bad.body.message, /`returnTo`/);
    const plain = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, t.clock) })
      .expect(200);
    assert.deepEqual(plain.body, { ok: true, verifiedAt: t.clock.now() });
    assert.equal(t.events.filter((e) => e.type === 'failed').length, 0);
  });

  test('confirming TOTP or SMS and a passwordless passkey sign-in echo it too', async () => {
    const sms = outboxSms({ log: false });
    const t = await makeGuardApp(redis.client(), () => {}, {
      sms,
      onLogin: (req, userId) => {
        req.session.user = { id: userId };
      },
    });
    const agent = await t.signIn('fay');
    const setup = await agent.post('/auth/mfa/totp/setup').send({}).expect(200);
    const byTotp = await agent
      .post('/auth/mfa/totp/confirm')
      .send({ code: totpCode(setup.body.secret, t.clock), returnTo: '/account?tab=security' })
      .expect(200);
    assert.equal(byTotp.body.returnTo, '/account?tab=security');
    assert.equal(byTotp.body.backupCodes.length, 10, 'the rest of the answer is unchanged');

    await agent.post('/auth/mfa/sms/setup').send({ phone: '+14155552671' }).expect(200);
    const code = /\b(\d{6,10})\b/.exec(sms.messages()[0]?.text ?? '')?.[1];
    const bySms = await agent
      .post('/auth/mfa/sms/confirm')
      .send({ code, returnTo: '//evil.com' })
      .expect(200);
    assert.equal(bySms.body.returnTo, '/');
    assert.match(bySms.body.phone, /71$/);

    const authenticator = newAuthenticator();
    t.clock.advance(60_000);
    assert.equal((await registerPasskey(agent, authenticator)).res.status, 200);
    const browser = supertest.agent(t.app);
    const options = await browser.post('/auth/mfa/webauthn/login/options').send({}).expect(200);
    const signedIn = await browser
      .post('/auth/mfa/webauthn/login/verify')
      .send({ response: authenticator.getAssertion(options.body), returnTo: '/billing' })
      .expect(200);
    assert.deepEqual(signedIn.body, {
      ok: true,
      userId: 'fay',
      verifiedAt: t.clock.now(),
      returnTo: '/billing',
    });
  });
});
