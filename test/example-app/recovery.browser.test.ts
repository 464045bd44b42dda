import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateSync } from 'otplib';
import type { Page } from 'playwright-core';
import { type ExampleSite, startExampleSite } from '../helpers/browser.js';

// Account recovery in the example app, in real headless Chromium: a user who lost their authenticator
// app recovers by an emailed code (read from the dev outbox), sets up a new app, and signs in with it.
describe('example app: recovering an account whose factors are lost', () => {
  let site: ExampleSite | undefined;
  let page: Page;
  let outbox: Page;
  let base = '';
  let logs: string[] = [];
  let pageErrors: string[] = [];

  const email = `hedy.${Date.now()}@example.com`;
  const password = 'frequency hopping 1942';
  /** The app's clock runs ahead by this much, so TOTP steps pass without sleeping. */
  let skewMs = 0;
  const appNow = () => Date.now() + skewMs;
  const totp = (secret: string) => generateSync({ secret, epoch: Math.floor(appNow() / 1000) });

  before(async () => {
    site = await startExampleSite({ outbox: true, now: appNow });
    ({ base, logs, pageErrors } = site);
    page = await site.newPage();
    outbox = await site.newPage({ context: page.context() });
    await page.bringToFront();
    page.on('dialog', (dialog) => dialog.accept());
  });

  after(() => site?.close());

  // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator method, not the DOM property.
  const text = async (p: Page, selector: string) => (await p.locator(selector).innerText()).trim();

  /** The text of the newest email whose subject contains `subject`, read from the /dev/outbox page. */
  async function newestEmail(subject: string): Promise<string> {
    await outbox.goto(`${base}/dev/outbox`);
    const message = outbox.locator('.outbox-message[data-channel="email"]', { hasText: subject }).first();
    await message.waitFor();
    assert.equal(await message.getAttribute('data-to'), email);
    // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator method, not the DOM property.
    const body = await message.locator('.outbox-text').innerText();
    // Back to the site's tab: a background tab gets few animation frames, and every click waits for them.
    await page.bringToFront();
    return body;
  }

  let lostSecret = '';

  test('a user signs up and sets up an authenticator app (after confirming by email)', async () => {
    await page.goto(`${base}/`);
    await page.locator('#signup-email').fill(email);
    await page.locator('#signup-password').fill(password);
    await page.locator('#signup-submit').click();
    await page.waitForURL(`${base}/account`);
    await page.locator('#totp-status', { hasText: 'Off' }).waitFor();

    // Email is already a factor, so adding one needs a fresh second factor first: confirmed right here,
    // in a dialog, and the setup goes on by itself (no detour to another page, no second click).
    await page.getByRole('button', { name: 'Set up authenticator app' }).click();
    const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Email me a code' }).click();
    await dialog.getByRole('status').filter({ hasText: 'We sent a code to' }).waitFor();
    // Sending again counts down instead of failing.
    assert.ok(await dialog.getByRole('button', { name: /^Email me a new code \(0:\d\d\)$/ }).isDisabled());
    const signIn = await newestEmail('verification code');
    const emailed = /\b(\d{6})\b/.exec(signIn)![1]!;
    await dialog.getByLabel('Code from the email').fill(emailed === '000000' ? '111111' : '000000');
    await dialog.getByRole('button', { name: 'Confirm and continue' }).click();
    await dialog.getByText('That code is not right').waitFor();
    await dialog.getByLabel('Code from the email').fill(emailed);
    await dialog.getByRole('button', { name: 'Confirm and continue' }).click();
    await page.locator('#totp-secret').waitFor({ state: 'visible' });
    assert.ok(await dialog.isHidden());
    assert.equal(new URL(page.url()).pathname, '/account', 'no detour');
    lostSecret = (await text(page, '#totp-secret')).replaceAll(' ', '');
    await page.locator('#totp-code').fill(totp(lostSecret));
    await page.locator('#totp-confirm').click();
    await page.locator('#backup-codes-panel').waitFor({ state: 'visible' });
    await page.locator('#backup-codes-done').click();
    await page.locator('#totp-status', { hasText: 'On' }).waitFor();
    assert.equal(await text(page, '#factor-summary'), 'authenticator app, email codes, backup codes');
  });

  test('having lost the app and the codes, they recover by email and set up a new app', async () => {
    await page.locator('#logout').click();
    await page.waitForURL(`${base}/`);
    await page.locator('#recover-link a').click();
    await page.waitForURL(`${base}/recover`);

    await page.locator('#recover-email').fill(email);
    await page.locator('#recover-send').click();
    await page.locator('#recover-sent', { hasText: email }).waitFor();
    const message = await newestEmail('Recover your');
    const code = /\b([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})\b/.exec(message)?.[1];
    assert.ok(code, `no recovery code in ${message}`);

    // A reload at step 2 keeps the step (and sends nothing new: the code emailed stays valid).
    await page.reload();
    await page.getByRole('heading', { name: '2. Enter the code' }).waitFor();
    assert.match(await text(page, '#recover-sent'), new RegExp(email.replace(/[.]/g, '\\.')));
    await page.locator('#recover-code').fill('aaaa-aaaa-aaaa-aaaa');
    await page.locator('#recover-submit').click();
    await page.locator('#recover-code-error', { hasText: 'not right' }).waitFor();
    await page.locator('#recover-code').fill(code);
    await page.locator('#recover-submit').click();
    await page.locator('#recover-enrol').waitFor({ state: 'visible' });
    assert.equal(await text(page, '#recover-factors'), 'none', 'the old factors are gone');
    assert.ok(await page.locator('#error').isHidden());

    // The owner is told, by email, that recovery was used.
    assert.match(await newestEmail('security notice'), /recovered with a code sent to this address/);

    // The recovery session cannot reach the account itself.
    await page.goto(`${base}/account`);
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/recover`);
    await page.locator('#recover-enrol').waitFor({ state: 'visible' });

    await page.locator('#totp-setup-start').click();
    await page.locator('#totp-secret').waitFor({ state: 'visible' });
    const secret = (await text(page, '#totp-secret')).replaceAll(' ', '');
    assert.notEqual(secret, lostSecret);
    // A reload mid-setup keeps the setup open (the server's status lists it) but never shows the
    // secret again: the app that scanned it confirms with its code.
    await page.reload();
    await page.locator('#totp-resume').waitFor({ state: 'visible' });
    assert.ok(await page.locator('#totp-scan').isHidden());
    assert.equal(await page.locator('#totp-secret').textContent(), '', 'the secret is not on the page');
    assert.ok(!(await page.content()).includes(secret), 'nor anywhere in it');
    assert.equal(
      await page.evaluate(() => JSON.stringify(sessionStorage)).then((s) => s.includes(secret)),
      false,
    );
    assert.ok(await page.getByRole('button', { name: 'Show a new QR code' }).isVisible());
    assert.ok(await page.locator('#totp-setup-start').isHidden());
    await page.locator('#totp-code').fill(totp(secret));
    await page.locator('#totp-confirm').click();
    await page.locator('#backup-codes-panel').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#backup-codes li').count(), 10);
    await page.locator('#backup-codes-done').click();
    await page.locator('#recover-factors', { hasText: 'authenticator app' }).waitFor();
    await page.locator('#recover-done').click();
    await page.waitForURL(`${base}/`);

    // Signing in again: password, then the new app at the sensitive action; the lost one is refused.
    skewMs += 31_000;
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill(password);
    await page.locator('#login-submit').click();
    // The password alone does not sign in: the new app finishes it, the lost one is refused.
    await page.waitForURL(`${base}/verify?signIn=1`);
    await page.locator('#totp-section').waitFor({ state: 'visible' });
    await page.locator('#totp-verify-code').fill(totp(lostSecret));
    await page.locator('#totp-verify-submit').click();
    await page.locator('#totp-verify-code-error', { hasText: 'not right' }).waitFor();
    await page.locator('#totp-verify-code').fill(totp(secret));
    await page.locator('#totp-verify-submit').click();
    await page.waitForURL(`${base}/account?verified=1`);
    await page.locator('#nav-sensitive').click();
    await page.waitForURL(`${base}/sensitive`);
    await page.locator('#sensitive-run').click();
    await page.locator('#sensitive-result').waitFor({ state: 'visible' });
    assert.match(await text(page, '#sensitive-output'), new RegExp(email.replace(/[.]/g, '\\.')));

    await page.locator('#nav-account').click();
    await page.locator('#factor-summary', { hasText: 'authenticator app' }).waitFor();
    assert.equal(await text(page, '#backup-remaining'), '10');
    assert.ok(
      logs.some((line) => line.includes('mfa recovery_completed')),
      'the audit log has the recovery',
    );
    assert.deepEqual(pageErrors, [], 'no script errors in the pages');
  });
});
