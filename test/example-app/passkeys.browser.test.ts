import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { type ExampleSite, serveExampleApp, startExampleSite } from '../helpers/browser.js';

// Passkeys in the example app, in real headless Chromium with a CDP virtual authenticator (a
// platform authenticator with resident keys and user verification), against a real Redis.

interface Tab {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
  errors: string[];
}

describe('passkeys in the example app', () => {
  let site: ExampleSite | undefined;
  const tabs: Tab[] = [];
  let n = 0;
  const password = 'correct horse battery staple';
  /** The app's clock runs ahead by this much: a step-up window passes without sleeping. */
  let skewMs = 0;

  before(async () => {
    site = await startExampleSite({ now: () => Date.now() + skewMs });
  });

  after(async () => {
    for (const tab of tabs) await tab.context.close().catch(() => {});
    await site?.close();
  });

  /** A new browser context and tab with its own, fresh virtual authenticator. */
  async function newTab(): Promise<Tab> {
    const errors: string[] = [];
    const page = await site!.newPage({ errors });
    const context = page.context();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    const tab = { context, page, cdp, authenticatorId, errors };
    tabs.push(tab);
    return tab;
  }

  const credentials = async (tab: Tab) =>
    (await tab.cdp.send('WebAuthn.getCredentials', { authenticatorId: tab.authenticatorId })).credentials;

  // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator method, not the DOM property.
  const text = async (page: Page, selector: string) => (await page.locator(selector).innerText()).trim();

  async function signUp(page: Page, base = site!.base): Promise<string> {
    const email = `user${++n}.${Date.now()}@example.com`;
    await page.goto(`${base}/`);
    await page.locator('#signup-email').fill(email);
    await page.locator('#signup-password').fill(password);
    await page.locator('#signup-submit').click();
    await page.waitForURL(`${base}/account`);
    await page.locator('#passkeys-card').waitFor({ state: 'visible' });
    return email;
  }

  async function addPasskey(page: Page, name: string) {
    await page.locator('#passkey-name').fill(name);
    await page.locator('#passkey-add').click();
    await page.locator('#passkey-list li', { hasText: name }).waitFor();
  }

  async function logOut(page: Page) {
    await page.locator('#logout').click();
    await page.waitForURL(`${site!.base}/`);
  }

  /**
   * A password sign-in, finished with the passkey on the verify page. The authenticator does not
   * answer by itself while the password is typed: the login field's passkey autofill stays pending,
   * as it does for a person who types instead of picking the passkey.
   */
  async function logIn(tab: Tab, email: string) {
    const { page, cdp, authenticatorId } = tab;
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill(password);
    await page.locator('#login-submit').click();
    await page.waitForURL(`${site!.base}/verify?signIn=1`);
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
    await page.getByRole('heading', { name: 'Finish signing in' }).waitFor();
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForURL(`${site!.base}/account?verified=1`);
  }

  /** From the account page to the verify page, via the sensitive action, once the step-up window passed. */
  async function reachVerify(page: Page) {
    skewMs += 6 * 60_000;
    await page.locator('#nav-sensitive').click();
    await page.waitForURL(`${site!.base}/sensitive`);
    await page.locator('#sensitive-run').click();
    await page.waitForURL(`${site!.base}/verify?next=%2Fsensitive`);
    await page.locator('#passkey-section').waitFor({ state: 'visible' });
  }

  async function runSensitiveAction(page: Page, email: string) {
    await page.locator('#sensitive-run').click();
    await page.locator('#sensitive-result').waitFor({ state: 'visible' });
    assert.match(await text(page, '#sensitive-output'), new RegExp(email.replace(/[.]/g, '\\.')));
  }

  test('register a passkey, step up with it, sign out, sign in with it alone', async () => {
    const tab = await newTab();
    const { page } = tab;
    const email = await signUp(page);
    assert.equal(await text(page, '#passkey-none'), 'No passkeys yet.');

    await addPasskey(page, 'Test laptop');
    await page.locator('#backup-codes-panel').waitFor({ state: 'visible' });
    assert.equal(
      (await page.locator('#backup-codes li').allInnerTexts()).length,
      10,
      'a first factor brings backup codes',
    );
    await page.locator('#backup-codes-done').click();
    await page.locator('#backup-remaining', { hasText: '10' }).waitFor();
    assert.ok(await page.locator('#passkey-none').isHidden());
    const stored = await credentials(tab);
    assert.equal(stored.length, 1);
    assert.equal(
      stored[0]?.isResidentCredential,
      true,
      'a discoverable credential, for passwordless sign-in',
    );

    // Registering elevated the session: the sensitive action passes at once.
    await page.locator('#nav-sensitive').click();
    await page.waitForURL(`${site!.base}/sensitive`);
    await runSensitiveAction(page, email);

    // A password is not enough to sign in: the passkey finishes it; later it is the step-up.
    await logOut(page);
    await logIn(tab, email);
    await reachVerify(page);
    await page.locator('#passkey-verify').click();
    await page.waitForURL(`${site!.base}/sensitive`);
    assert.equal(await text(page, '#notice'), 'Verified. You can continue.');
    // The export resumes by itself.
    await page.locator('#sensitive-result').waitFor({ state: 'visible' });
    assert.match(await text(page, '#sensitive-output'), new RegExp(email.replace(/[.]/g, '\\.')));

    // Passwordless: no email, no password, and the session is MFA-verified.
    await logOut(page);
    await page.locator('#passkey-login').click();
    await page.waitForURL(`${site!.base}/account`);
    await page.locator('#user-email', { hasText: email }).waitFor(); // the page has loaded its data
    await page.locator('#passkey-list li').waitFor();
    assert.notEqual(await text(page, '#verified-at'), 'Not in this session');
    await page.locator('#nav-sensitive').click();
    await page.waitForURL(`${site!.base}/sensitive`);
    await runSensitiveAction(page, email);
    assert.ok((await credentials(tab))[0]!.signCount >= 2, 'the authenticator counted its uses');

    // Removing the last passkey has to be confirmed, and takes the backup codes along.
    await page.locator('#nav-account').click();
    await page.waitForURL(`${site!.base}/account`);
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await page.locator('#passkey-list li .passkey-remove').click();
    await page.locator('#passkey-none').waitFor({ state: 'visible' });
    assert.equal(dialogs.length, 2);
    assert.match(dialogs[1]!, /last second factor/);
    await page.locator('#backup-remaining', { hasText: '0' }).waitFor();
    assert.deepEqual(tab.errors, [], 'no script or CSP errors');
  });

  test('passwordless sign-in fails when the authenticator cannot verify the user', async () => {
    const tab = await newTab();
    const { page, cdp, authenticatorId } = tab;
    const email = await signUp(page);
    await addPasskey(page, 'Phone');
    await page.locator('#backup-codes-done').click();
    await logOut(page);

    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
    // An honest browser refuses by itself: the options require user verification.
    await page.locator('#passkey-login').click();
    await page.locator('#error', { hasText: 'cancelled' }).waitFor();
    // A tampered client that lowers the requirement gets an assertion without UV: the server refuses it.
    await page.route('**/auth/mfa/webauthn/login/options', async (route) => {
      const response = await route.fetch();
      await route.fulfill({
        response,
        json: { ...(await response.json()), userVerification: 'discouraged' },
      });
    });
    const answer = page.waitForResponse('**/auth/mfa/webauthn/login/verify');
    await page.locator('#passkey-login').click();
    assert.equal((await answer).status(), 401);
    await page.locator('#error', { hasText: 'could not be verified' }).waitFor();
    await page.unroute('**/auth/mfa/webauthn/login/options');
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal((await page.request.get(`${site!.base}/api/me`)).status(), 401, 'not signed in');

    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
    await page.locator('#passkey-login').click();
    await page.waitForURL(`${site!.base}/account`);
    await page.locator('#user-email', { hasText: email }).waitFor();
  });

  test('a passkey created on a page the server does not expect (wrong origin) is refused', async () => {
    // Served on one port, configured for another: the browser signs its real origin into the response.
    const misconfigured = await serveExampleApp({ origin: () => 'http://localhost:1', log: () => {} });
    try {
      const tab = await newTab();
      const { page } = tab;
      await signUp(page, misconfigured.base);
      await page.locator('#passkey-name').fill('Wrong origin');
      await page.locator('#passkey-add').click();
      await page.locator('#error', { hasText: 'could not be verified' }).waitFor();
      assert.ok(await page.locator('#passkey-none').isVisible(), 'nothing was registered');
      assert.equal((await credentials(tab)).length, 1, 'though the authenticator did create one');
    } finally {
      await misconfigured.close();
    }
  });

  test('a replayed assertion is refused, for step-up and for sign-in', async () => {
    const tab = await newTab();
    const { page } = tab;
    const email = await signUp(page);
    await addPasskey(page, 'Laptop');
    await page.locator('#backup-codes-done').click();
    await logOut(page);
    await logIn(tab, email);
    await reachVerify(page);
    const stepUp = page.waitForRequest('**/auth/mfa/webauthn/verify/verify');
    await page.locator('#passkey-verify').click();
    const stepUpBody = (await stepUp).postDataJSON();
    await page.waitForURL(`${site!.base}/sensitive`);
    const replay = await page.request.post(`${site!.base}/auth/mfa/webauthn/verify/verify`, {
      data: stepUpBody,
    });
    assert.equal(replay.status(), 401);
    assert.equal((await replay.json()).error, 'invalid_code');

    await logOut(page);
    const signIn = page.waitForRequest('**/auth/mfa/webauthn/login/verify');
    await page.locator('#passkey-login').click();
    const signInBody = (await signIn).postDataJSON();
    await page.waitForURL(`${site!.base}/account`);
    await logOut(page);
    await page.request.post(`${site!.base}/auth/mfa/webauthn/login/options`, { data: {} });
    const again = await page.request.post(`${site!.base}/auth/mfa/webauthn/login/verify`, {
      data: signInBody,
    });
    assert.equal(again.status(), 401);
    assert.equal(
      (await page.request.get(`${site!.base}/api/me`)).status(),
      401,
      'the replay signed no one in',
    );
  });

  test("another user's passkey cannot answer this user's step-up", async () => {
    const tab = await newTab();
    const { page, cdp, authenticatorId } = tab;
    // The attacker's account and passkey, on this authenticator.
    await signUp(page);
    await addPasskey(page, 'Attacker key');
    await page.locator('#backup-codes-done').click();
    const [attackerKey] = await credentials(tab);
    await logOut(page);
    // The victim's account and passkey, then a new password sign-in that needs a step-up.
    const victim = await signUp(page);
    await addPasskey(page, 'Victim key');
    await page.locator('#backup-codes-done').click();
    await logOut(page);
    await logIn(tab, victim);
    await reachVerify(page);

    // A tampered client: only the attacker's passkey is left, and the victim's allow list is dropped.
    for (const credential of await credentials(tab)) {
      if (credential.credentialId !== attackerKey!.credentialId) {
        await cdp.send('WebAuthn.removeCredential', {
          authenticatorId,
          credentialId: credential.credentialId,
        });
      }
    }
    await page.route('**/auth/mfa/webauthn/verify/options', async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, json: { ...(await response.json()), allowCredentials: [] } });
    });
    const answer = page.waitForResponse('**/auth/mfa/webauthn/verify/verify');
    await page.locator('#passkey-verify').click();
    assert.equal((await answer).status(), 401);
    await page.locator('#passkey-error', { hasText: 'could not be verified' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/verify');
    const sensitive = await page.request.post(`${site!.base}/api/sensitive`, { data: {} });
    assert.equal(sensitive.status(), 401, 'still not verified');
  });

  test('the login field offers the passkey in the browser autofill, and the button stays for the rest', (t) =>
    site!.step(t, async () => {
      const tab = await newTab();
      const { page } = tab;
      const email = await signUp(page);
      await addPasskey(page, 'Autofill laptop');
      await page.getByRole('button', { name: "I've saved them" }).click();
      await logOut(page);

      // Conditional mediation: picking the passkey from the email field's suggestions signs in (the
      // virtual authenticator picks it at once, as a person choosing it would).
      const email_ = page.getByLabel('Email', { exact: true }).first();
      assert.equal(await email_.getAttribute('autocomplete'), 'username webauthn');
      assert.ok(await page.getByRole('button', { name: 'Sign in with a passkey' }).isVisible());
      await email_.focus();
      await page.waitForURL(`${site!.base}/account`);
      await page.locator('#user-email', { hasText: email }).waitFor();
      assert.notEqual(await text(page, '#verified-at'), 'Not in this session');
      await logOut(page);

      // A browser without passkey autofill: focusing the field asks for nothing; the button signs in.
      const plain = await newTab();
      await plain.page.addInitScript(() => {
        PublicKeyCredential.isConditionalMediationAvailable = async () => false;
      });
      const plainEmail = await signUp(plain.page);
      await addPasskey(plain.page, 'No autofill');
      await plain.page.getByRole('button', { name: "I've saved them" }).click();
      await logOut(plain.page);
      let optionsAsked = 0;
      plain.page.on('request', (r) => {
        if (r.url().endsWith('/webauthn/login/options')) optionsAsked++;
      });
      await plain.page.getByLabel('Email', { exact: true }).first().focus();
      await plain.page.waitForTimeout(300);
      assert.equal(optionsAsked, 0, 'no autofill ceremony without browser support');
      await plain.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await plain.page.waitForURL(`${site!.base}/account`);
      await plain.page.locator('#user-email', { hasText: plainEmail }).waitFor();
      assert.deepEqual([...tab.errors, ...plain.errors], [], 'no script or CSP errors');
    }));
});
