import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import supertest from 'supertest';
import { DAY } from '../../lib/index.js';
import { deviceName } from '../../lib/trusted-devices/device-name.js';
import { fileRedis, makeSignInApp, sessionCookie } from '../helpers/sign-in-app.js';
import { enrolTotp, totpCode } from '../helpers/test-app.js';

const redisClient = fileRedis();

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';

/** The device cookie a response set (`mfa_device=...`), and its attributes. */
function deviceCookie(res: supertest.Response, name = 'mfa_device') {
  const header = ([] as string[])
    .concat(res.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith(`${name}=`));
  if (!header) return undefined;
  const [pair, ...attributes] = header.split(';').map((s) => s.trim());
  return { pair: pair!, token: pair!.slice(name.length + 1), attributes };
}

async function setUp(userIds: string[], options: Parameters<typeof makeSignInApp>[1] = {}) {
  const prefix = `td${Math.random().toString(36).slice(2)}:`;
  const t = await makeSignInApp(redisClient(), { trustedDevices: true, prefix, ...options });
  const secrets = new Map<string, string>();
  for (const id of userIds) secrets.set(id, (await enrolTotp(await t.signIn(id), t.clock)).secret);
  t.clock.advance(30_000);
  /** A password sign-in completed by TOTP with "remember this device"; the next code is a step later. */
  async function remember(userId: string, agent = supertest.agent(t.app)) {
    await t.password(userId, agent);
    const res = await agent
      .post('/auth/mfa/totp/verify')
      .set('User-Agent', FIREFOX)
      .send({ code: totpCode(secrets.get(userId)!, t.clock), rememberDevice: true })
      .expect(200);
    t.clock.advance(30_000);
    return { agent, res, cookie: deviceCookie(res)! };
  }
  return { t, prefix, secrets, remember };
}

describe('trusted devices', () => {
  test('remembering sets an HttpOnly, SameSite=Lax cookie; the next sign-in skips the second factor, not step-up', async () => {
    const { t, remember } = await setUp(['ann']);
    const { agent, res, cookie } = await remember('ann');
    assert.equal(res.body.signedIn, true);
    assert.equal(res.body.trustedDevice.expiresAt, t.clock.now() - 30_000 + 30 * DAY);
    assert.match(cookie.token, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(cookie.attributes.includes('HttpOnly'));
    assert.ok(cookie.attributes.includes('SameSite=Lax'));
    assert.ok(cookie.attributes.includes('Path=/'));
    assert.ok(cookie.attributes.includes(`Max-Age=${30 * 86400}`));
    // Plain http on this machine (a developer's first try): not Secure, or the browser would drop it.
    assert.ok(!cookie.attributes.includes('Secure'));

    // Same browser, signed out (a new session), signs in again: no second factor.
    await agent.post('/test/login').send({ id: 'nobody' });
    const again = await t.password('ann', agent);
    assert.deepEqual(again.res.body, { status: 'signed_in', trustedDevice: true });
    assert.equal((await agent.get('/test/me')).body.user.id, 'ann');
    // Step-up still asks: the session is signed in, not verified.
    const guarded = await agent.get('/guarded');
    assert.equal(guarded.status, 401);
    assert.equal(guarded.body.error, 'mfa_required');
    assert.ok(t.events.some((e) => e.type === 'sign_in' && e.trustedDevice === true));

    // Listed with its name, and as this browser's.
    const list = await agent.get('/auth/mfa/trusted-devices').expect(200);
    assert.equal(list.body.devices.length, 1);
    assert.equal(list.body.devices[0].name, 'Firefox on Linux');
    assert.equal(list.body.devices[0].current, true);
    const status = await agent.get('/auth/mfa/').expect(200);
    assert.equal(status.body.trustedDevices[0].id, list.body.devices[0].id);
  });

  test('the cookie is Secure on any host but localhost', async () => {
    const { t, secrets } = await setUp(['bea']);
    const agent = supertest.agent(t.app);
    const pending = await agent.post('/test/password?id=bea').set('Host', 'app.example.com').expect(200);
    const res = await supertest(t.app)
      .post('/auth/mfa/totp/verify')
      .set('Host', 'app.example.com')
      .set('Cookie', sessionCookie(pending)!)
      .send({ code: totpCode(secrets.get('bea')!, t.clock), rememberDevice: true })
      .expect(200);
    assert.ok(deviceCookie(res)!.attributes.includes('Secure'));
  });

  test('the token rotates on every use: the old one no longer works', async () => {
    const { t, remember } = await setUp(['cal']);
    const { cookie } = await remember('cal');
    const first = await supertest(t.app).post('/test/password?id=cal').set('Cookie', cookie.pair).expect(200);
    assert.equal(first.body.trustedDevice, true);
    const next = deviceCookie(first)!;
    assert.notEqual(next.token, cookie.token);
    const replay = await supertest(t.app)
      .post('/test/password?id=cal')
      .set('Cookie', cookie.pair)
      .expect(200);
    assert.equal(replay.body.status, 'mfa_required');
    const rotated = await supertest(t.app).post('/test/password?id=cal').set('Cookie', next.pair).expect(200);
    assert.equal(rotated.body.trustedDevice, true);
  });

  test('10 parallel sign-ins with one cookie: exactly one skips the second factor', async () => {
    const { t, remember } = await setUp(['dot']);
    const { cookie } = await remember('dot');
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        supertest(t.app).post('/test/password?id=dot').set('Cookie', cookie.pair).expect(200),
      ),
    );
    const statuses = answers.map((a) => a.body.status).sort();
    assert.equal(statuses.filter((s) => s === 'signed_in').length, 1, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 'mfa_required').length, 9);
  });

  test("never for another user: one user's device cookie does not skip another's second factor", async () => {
    const { t, remember } = await setUp(['eve', 'fin']);
    const { cookie } = await remember('eve');
    const other = await supertest(t.app).post('/test/password?id=fin').set('Cookie', cookie.pair).expect(200);
    assert.equal(other.body.status, 'mfa_required');
    // And trying it did not use up the owner's token.
    const owner = await supertest(t.app).post('/test/password?id=eve').set('Cookie', cookie.pair).expect(200);
    assert.equal(owner.body.trustedDevice, true);
  });

  test('expires after ttlMs on the injected clock', async () => {
    const { t, remember } = await setUp(['gus'], { trustedDevices: { ttlMs: DAY } });
    const { cookie } = await remember('gus');
    t.clock.advance(DAY);
    const res = await supertest(t.app).post('/test/password?id=gus').set('Cookie', cookie.pair).expect(200);
    assert.equal(res.body.status, 'mfa_required');
  });

  test('revocable one by one and all at once', async () => {
    const { t, remember } = await setUp(['hal']);
    const laptop = await remember('hal');
    const phone = await remember('hal');
    const list = await phone.agent.get('/auth/mfa/trusted-devices').expect(200);
    assert.equal(list.body.devices.length, 2);
    const laptopId = laptop.res.body.trustedDevice.id;
    await phone.agent.delete(`/auth/mfa/trusted-devices/${laptopId}`).send({}).expect(200);
    assert.equal((await phone.agent.delete(`/auth/mfa/trusted-devices/${laptopId}`).send({})).status, 404);
    const gone = await supertest(t.app)
      .post('/test/password?id=hal')
      .set('Cookie', laptop.cookie.pair)
      .expect(200);
    assert.equal(gone.body.status, 'mfa_required');

    const all = await phone.agent.delete('/auth/mfa/trusted-devices').send({}).expect(200);
    assert.equal(all.body.revoked, 1);
    assert.equal(deviceCookie(all)!.attributes.includes('Max-Age=0'), true);
    const phoneGone = await supertest(t.app)
      .post('/test/password?id=hal')
      .set('Cookie', phone.cookie.pair)
      .expect(200);
    assert.equal(phoneGone.body.status, 'mfa_required');
    assert.ok(t.events.some((e) => e.type === 'trusted_device_revoked' && e.reason === 'user'));
  });

  test('a factor change, an admin reset and the cap each revoke devices', async () => {
    const { t, remember } = await setUp(['ida'], { trustedDevices: { maxPerUser: 2 } });
    // Cap: a third device forgets the oldest.
    const first = await remember('ida');
    await remember('ida');
    const third = await remember('ida');
    assert.equal((await third.agent.get('/auth/mfa/trusted-devices')).body.devices.length, 2);
    const oldest = await supertest(t.app)
      .post('/test/password?id=ida')
      .set('Cookie', first.cookie.pair)
      .expect(200);
    assert.equal(oldest.body.status, 'mfa_required');

    // A factor change (new backup codes, in the freshly verified session) revokes them all.
    await third.agent.post('/auth/mfa/backup-codes').send({}).expect(200);
    const afterChange = await supertest(t.app).post('/test/password?id=ida').set('Cookie', third.cookie.pair);
    assert.equal(afterChange.body.status, 'mfa_required');
    assert.ok(t.events.some((e) => e.type === 'trusted_device_revoked' && e.reason === 'factors_changed'));

    const again = await remember('ida');
    await t.mfa.admin.resetUser('ida');
    const afterReset = await supertest(t.app).post('/test/password?id=ida').set('Cookie', again.cookie.pair);
    // Reset removed the factors too: the password alone signs in, but not as a trusted device.
    assert.deepEqual(afterReset.body, { status: 'signed_in' });
  });

  test('only a keyed hash of the token is stored: the raw token is nowhere in Redis', async () => {
    const { prefix, remember } = await setUp(['jon']);
    const { cookie } = await remember('jon');
    const keys = await redisClient().keys(`${prefix}*`);
    assert.ok(keys.some((k) => k.includes(':device-token:')));
    for (const key of keys) {
      assert.ok(!key.includes(cookie.token));
      const type = await redisClient().type(key);
      const values =
        type === 'string'
          ? [await redisClient().get(key)]
          : type === 'set'
            ? await redisClient().smembers(key)
            : [JSON.stringify(await redisClient().hgetall(key))];
      for (const value of values) assert.ok(!String(value).includes(cookie.token), key);
    }
  });

  test('remembering is for sign-in only; the routes are for signed-in users; off means 404', async () => {
    const { t, secrets } = await setUp(['kim']);
    const agent = await t.signIn('kim');
    const stepUp = await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secrets.get('kim')!, t.clock), rememberDevice: true })
      .expect(200);
    assert.equal(deviceCookie(stepUp), undefined);
    assert.equal(stepUp.body.trustedDevice, undefined);
    assert.equal((await t.password('kim')).res.body.status, 'mfa_required');
    const pending = (await t.password('kim')).agent;
    assert.equal((await pending.get('/auth/mfa/trusted-devices')).body.error, 'mfa_pending');
    assert.equal((await pending.get('/auth/mfa/')).body.trustedDevices, undefined);
    assert.equal((await supertest(t.app).get('/auth/mfa/trusted-devices')).status, 401);
    const bad = await agent.post('/auth/mfa/totp/verify').send({ code: '123456', rememberDevice: 'yes' });
    assert.equal(bad.status, 400);

    const off = await makeSignInApp(redisClient());
    const offAgent = await off.signIn('kim');
    assert.equal((await offAgent.get('/auth/mfa/trusted-devices')).status, 404);
  });

  test('device names come from the User-Agent', () => {
    assert.equal(deviceName(FIREFOX), 'Firefox on Linux');
    assert.equal(
      deviceName(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Mobile/15E148 Safari/604.1',
      ),
      'Safari on iOS',
    );
    assert.equal(
      deviceName(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36 Edg/140.0',
      ),
      'Edge on Windows',
    );
    assert.equal(deviceName(undefined), 'A browser on an unknown system');
  });
});
