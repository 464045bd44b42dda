import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateSync } from 'otplib';
import type { Page } from 'playwright-core';
import { type ExampleSite, startExampleSite } from '../helpers/browser.js';

// The example app in real headless Chromium, with sessions and MFA records in a real Redis.
describe('example app in a browser', () => {
  let site: ExampleSite | undefined;
  let page: Page;
  let base = '';
  let logs: string[] = [];
  let pageErrors: string[] = [];

  const email = `ada.${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  let backupCodes: string[] = [];

  before(async () => {
    site = await startExampleSite();
    ({ base, logs, pageErrors } = site);
    page = await site.newPage();
  });

  after(() => site?.close());

  // Playwright's innerText: the text a user sees, which is what these assertions are about.
  // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator method, not the DOM property.
  const text = async (selector: string) => (await page.locator(selector).innerText()).trim();

  async function runSensitiveAction() {
    await page.locator('#sensitive-run').click();
    await page.locator('#sensitive-result').waitFor({ state: 'visible' });
    assert.equal(await text('#sensitive-result h2'), 'Your export is ready');
    assert.match(await text('#sensitive-output'), new RegExp(email.replace(/[.]/g, '\\.')));
  }

  test('sign up, set up an authenticator app, then do the sensitive action', async () => {
    assert.ok(
      logs.some((line) => line.includes('Redis')),
      'the app says it uses Redis',
    );

    await page.goto(`${base}/`);
    await page.locator('#signup-name').fill('Ada');
    await page.locator('#signup-email').fill(email);
    await page.locator('#signup-password').fill(password);
    await page.locator('#signup-submit').click();
    await page.waitForURL(`${base}/account`);

    await page.locator('#totp-status', { hasText: 'Off' }).waitFor(); // the page has loaded its data
    assert.equal(await text('#user-email'), email);
    assert.equal(await text('#backup-remaining'), '0');

    await page.getByRole('button', { name: 'Set up authenticator app' }).click();
    await page.locator('#totp-secret').waitFor({ state: 'visible' });
    const shown = await text('#totp-secret');
    assert.match(
      shown,
      /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/,
      'the secret is shown as base32 text in groups of four',
    );
    const secret = shown.replaceAll(' ', '');
    assert.equal(await page.locator('#totp-secret').getAttribute('data-secret'), secret);
    assert.match(
      (await page.getByRole('link', { name: 'Add to my authenticator app' }).getAttribute('href')) ?? '',
      new RegExp(`^otpauth://totp/.*secret=${secret}`),
      'a tap-to-add otpauth:// link beside the QR code',
    );
    assert.match((await page.locator('#totp-qr').getAttribute('src')) ?? '', /^data:image\/png;base64,/);
    assert.ok(
      await page
        .locator('#totp-qr')
        .evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0),
      'the QR code image renders',
    );

    await page.locator('#totp-code').fill(generateSync({ secret }));
    await page.locator('#totp-confirm').click();

    await page.locator('#backup-codes-panel').waitFor({ state: 'visible' });
    assert.match(await text('#backup-codes-panel'), /will not be shown again/);
    backupCodes = await page.locator('#backup-codes li').allInnerTexts();
    assert.equal(backupCodes.length, 10);
    assert.equal(new Set(backupCodes).size, 10, 'the backup codes are all different');
    await page.locator('#totp-status', { hasText: 'On' }).waitFor();
    assert.equal(await text('#backup-remaining'), '10');
    assert.ok(await page.locator('#totp-setup').isHidden(), 'the setup panel closes');
    assert.ok(await page.locator('#totp-setup-start').isHidden());

    await page.locator('#backup-codes-done').click();
    assert.ok(await page.locator('#backup-codes-panel').isHidden());
    assert.equal(await page.locator('#backup-codes li').count(), 0, 'the codes are gone from the page');

    // Confirming the app just elevated the session: the action passes without another prompt.
    await page.locator('#nav-sensitive').click();
    await page.waitForURL(`${base}/sensitive`);
    await runSensitiveAction();
    assert.equal(new URL(page.url()).pathname, '/sensitive');
  });

  test('with a factor, the password alone does not sign in: the second-factor page finishes it', async () => {
    assert.equal(backupCodes.length, 10, 'needs the codes of the first test');

    await page.locator('#logout').click();
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/sensitive`);
    await page.waitForURL(`${base}/`); // signed out: pages send you to the login form

    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill('wrong password!');
    await page.locator('#login-submit').click();
    // The error is under the password field, tied to it for screen readers.
    const passwordError = page.locator('#login-password-error', { hasText: 'do not match' });
    await passwordError.waitFor();
    assert.equal(await passwordError.getAttribute('aria-live'), 'polite');
    assert.match(
      (await page.locator('#login-password').getAttribute('aria-describedby')) ?? '',
      /login-password-error/,
    );
    assert.equal(await page.locator('#login-password').getAttribute('aria-invalid'), 'true');

    await page.locator('#login-password').fill(password);
    await page.locator('#login-submit').click();
    await page.waitForURL(`${base}/verify?signIn=1`);
    await page.locator('#verify-title', { hasText: 'Finish signing in' }).waitFor();
    await page.locator('#totp-section').waitFor({ state: 'visible' });
    assert.ok(await page.getByLabel('Remember this device for 30 days').isVisible());

    // The password alone is not a sign-in: the account page sends the visitor to the login form.
    await page.goto(`${base}/account`);
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/verify?signIn=1`);
    await page.locator('#verify-title', { hasText: 'Finish signing in' }).waitFor();

    // A wrong code is refused and leaves the user on the page.
    await page.locator('#backup-toggle').click();
    await page.locator('#backup-verify-code').fill('not-a-real-code');
    await page.locator('#backup-verify-submit').click();
    await page.locator('#backup-verify-code-error', { hasText: 'That code is not right' }).waitFor();
    assert.ok(await page.locator('#error').isHidden(), 'the error is beside the field, not at the top');
    assert.equal(new URL(page.url()).pathname, '/verify');

    await page.getByLabel('Remember this device for 30 days').check();
    await page.locator('#backup-verify-code').fill(backupCodes[0]!);
    await page.locator('#backup-verify-submit').click();
    await page.waitForURL(`${base}/account?verified=1`);
    await page.locator('#backup-remaining', { hasText: '9' }).waitFor();
    assert.notEqual(await text('#verified-at'), 'Not in this session');
    const cookies = await page.context().cookies();
    const device = cookies.find((c) => c.name === 'mfa_device');
    assert.ok(device?.httpOnly, 'the remembered device has an HttpOnly cookie');
    assert.equal(device?.sameSite, 'Lax');

    // Signed in with the second factor just now: the sensitive action needs no other prompt.
    await page.locator('#nav-sensitive').click();
    await page.waitForURL(`${base}/sensitive`);
    await runSensitiveAction();
    assert.deepEqual(pageErrors, [], 'no script errors in the pages');
  });

  test('a remembered device skips the second factor at sign-in, but step-up still asks', async () => {
    await page.locator('#logout').click();
    await page.waitForURL(`${base}/`);
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill(password);
    await page.locator('#login-submit').click();
    await page.waitForURL(`${base}/account`);
    await page.locator('#verified-at', { hasText: 'Not in this session' }).waitFor();

    await page.locator('#nav-sensitive').click();
    await page.waitForURL(`${base}/sensitive`);
    await page.locator('#sensitive-run').click();
    await page.waitForURL(`${base}/verify?next=%2Fsensitive`);
    assert.equal(await text('#verify-title'), "Confirm it's you");
    assert.ok(await page.locator('#remember').isHidden(), 'remembering is for sign-in only');
    await page.locator('#backup-toggle').click();
    await page.locator('#backup-verify-code').fill(backupCodes[1]!);
    await page.locator('#backup-verify-submit').click();
    await page.waitForURL(`${base}/sensitive`);
    assert.equal(await text('#notice'), 'Verified. You can continue.');
    // The blocked action resumes by itself: the export is there without a second click.
    await page.locator('#sensitive-result').waitFor({ state: 'visible' });
    assert.match(await text('#sensitive-output'), new RegExp(email.replace(/[.]/g, '\\.')));
    // Reloading does not run it again: the resume was used up.
    await page.reload();
    await page.locator('#sensitive-run').waitFor();
    assert.ok(await page.locator('#sensitive-result').isHidden());
    // A link that only says "verified" does not run the action either (the resume is kept in the tab).
    await page.goto(`${base}/sensitive?verified=1`);
    await page.locator('#notice').waitFor({ state: 'visible' });
    assert.ok(await page.locator('#sensitive-result').isHidden());

    // Another browser (no device cookie) is asked for the second factor again.
    const other = await site!.newPage();
    await other.goto(`${base}/`);
    await other.locator('#login-email').fill(email);
    await other.locator('#login-password').fill(password);
    await other.locator('#login-submit').click();
    await other.waitForURL(`${base}/verify?signIn=1`);
    await other.close();
    assert.deepEqual(pageErrors, [], 'no script errors in the pages');
  });

  test('remembered devices are listed on the account page, and forgetting one makes it ask again', (t) =>
    site!.step(t, async () => {
      // A second browser signs in and is remembered too.
      const other = await site!.newPage();
      await other.goto(`${base}/`);
      await other.getByLabel('Email', { exact: true }).first().fill(email);
      await other.getByLabel('Password', { exact: true }).fill(password);
      await other.getByRole('button', { name: 'Log in' }).click();
      await other.waitForURL(`${base}/verify?signIn=1`);
      await other.getByLabel('Remember this device for 30 days').check();
      await other.getByText('Use a backup code instead').click();
      await other.getByLabel('Backup code').fill(backupCodes[2]!);
      await other.getByRole('button', { name: 'Use backup code' }).click();
      await other.waitForURL(`${base}/account?verified=1`);

      await page.goto(`${base}/account`);
      const devices = page.getByRole('region', { name: 'Remembered devices' });
      await devices.getByRole('listitem').nth(1).waitFor();
      assert.equal(await devices.getByRole('listitem').count(), 2);
      assert.equal(await devices.getByRole('listitem').filter({ hasText: '(this device)' }).count(), 1);
      assert.ok(await devices.getByRole('button', { name: 'Forget all devices' }).isVisible());

      // Forget the other browser (no step-up needed: it only takes trust away).
      const others = devices.getByRole('listitem').filter({ hasNotText: '(this device)' });
      await others.getByRole('button', { name: /^Forget / }).click();
      await devices.getByRole('status').filter({ hasText: 'is forgotten' }).waitFor();
      assert.equal(await devices.getByRole('listitem').count(), 1);

      // That browser's next sign-in asks for the second factor again.
      await other.getByRole('button', { name: 'Log out' }).click();
      await other.waitForURL(`${base}/`);
      await other.getByLabel('Email', { exact: true }).first().fill(email);
      await other.getByLabel('Password', { exact: true }).fill(password);
      await other.getByRole('button', { name: 'Log in' }).click();
      await other.waitForURL(`${base}/verify?signIn=1`);
      await other.close();

      // Forgetting this device: the list is empty and this browser's cookie is gone.
      await devices.getByRole('button', { name: 'Forget this device' }).click();
      await devices.getByText('No remembered devices').waitFor();
      const cookies = await page.context().cookies();
      assert.equal(
        cookies.find((c) => c.name === 'mfa_device'),
        undefined,
      );
      assert.deepEqual(pageErrors, [], 'no script errors in the pages');
    }));
});
