import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { type ExampleSite, startExampleSite } from '../helpers/browser.js';

// A reload in the middle of a code: the page resumes from the server's status (`pending`), with the
// server's resend wait. The app's clock runs ahead of the browser's, so a wait the page guessed from
// its own clock (30 s from when it sent) would show a different countdown than the server's.
describe('example app: a reload resumes what the server says is pending', () => {
  let site: ExampleSite | undefined;
  let page: Page;
  let base = '';
  let pageErrors: string[] = [];
  let skewMs = 0;
  const email = `hedy.${Date.now()}@example.com`;

  before(async () => {
    site = await startExampleSite({ outbox: true, now: () => Date.now() + skewMs });
    ({ base, pageErrors } = site);
    page = await site.newPage();
  });
  after(() => site?.close());

  // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator method, not the DOM property.
  const text = async (selector: string) => (await page.locator(selector).innerText()).trim();

  const codeFromOutbox = (channel: 'email' | 'sms') => site!.codeFromOutbox(page, channel);

  test('mid email code and mid phone setup: the code box and the countdown come back', (t) =>
    site!.step(t, async () => {
      await page.goto(`${base}/`);
      await page.locator('#signup-email').fill(email);
      await page.locator('#signup-password').fill('correct horse battery staple');
      await page.locator('#signup-submit').click();
      await page.waitForURL(`${base}/account`);
      await page.locator('#sms-status', { hasText: 'Off' }).waitFor();

      // Adding a phone needs a fresh second factor: the dialog emails a code. Then the page reloads.
      await page.locator('#sms-phone').fill('+1 415 555 2671');
      await page.locator('#sms-setup-submit').click();
      const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
      await dialog.getByRole('button', { name: 'Email me a code' }).click();
      await dialog.getByRole('status').filter({ hasText: 'We sent a code' }).waitFor();
      skewMs += 10_000;
      await page.reload();
      await page.locator('#sms-status', { hasText: 'Off' }).waitFor();

      // Asked again, the dialog knows the code already sent (the server's word) and its resend wait.
      await page.locator('#sms-phone').fill('+1 415 555 2671');
      await page.locator('#sms-setup-submit').click();
      await dialog.waitFor();
      assert.ok(await page.locator('#step-up-form').isVisible(), 'the code box, without a new send');
      assert.match(await text('#step-up-sent'), /We sent a code to h\*\*\*@example\.com/);
      const held = dialog.getByRole('button', { name: /^Email me a new code \(0:\d\d\)$/ });
      assert.ok(await held.isDisabled());
      assert.match((await held.textContent()) ?? '', /\(0:(1[5-9]|20)\)/, "the server's 20 s left, not 30");
      await page.locator('#step-up-code').fill(await codeFromOutbox('email'));
      await page.locator('#step-up-submit').click();

      // The setup goes on by itself and texts a code; 12 s later (by the app's clock) the page reloads.
      await page.locator('#sms-confirm-form').waitFor({ state: 'visible' });
      assert.match(await text('#sms-confirm-to'), /We texted a code to \+1 415 555 2671/);
      skewMs += 12_000;
      await page.reload();
      await page.locator('#sms-confirm-form').waitFor({ state: 'visible' });
      assert.match(await text('#sms-confirm-to'), /We texted a code to \+\*{7}2671/, 'masked by the server');
      const resend = page.getByRole('button', { name: /^Text me a new code \(0:\d\d\)$/ });
      assert.ok(await resend.isDisabled());
      assert.match((await resend.textContent()) ?? '', /\(0:1[3-8]\)/, "the server's 18 s left, not 30");
      assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'nothing kept in the tab');

      await page.locator('#sms-confirm-code').fill(await codeFromOutbox('sms'));
      await page.locator('#sms-confirm-submit').click();
      await page.locator('#sms-status', { hasText: 'On, to +*******2671' }).waitFor();
      assert.ok(await page.locator('#sms-confirm-form').isHidden());
      await page.locator('#backup-codes-done').click();

      // An authenticator app mid-setup: after a reload the page offers the code box or a new QR code.
      await page.getByRole('button', { name: 'Set up authenticator app' }).click();
      await page.locator('#totp-secret').waitFor({ state: 'visible' });
      const first = await page.locator('#totp-secret').getAttribute('data-secret');
      await page.reload();
      await page.locator('#totp-resume').waitFor({ state: 'visible' });
      assert.ok(await page.locator('#totp-scan').isHidden());
      await page.getByRole('button', { name: 'Show a new QR code' }).click();
      await page.locator('#totp-secret').waitFor({ state: 'visible' });
      assert.ok(await page.locator('#totp-resume').isHidden());
      const second = await page.locator('#totp-secret').getAttribute('data-secret');
      assert.ok(second && second !== first, 'a new secret, the old one replaced');
      assert.deepEqual(pageErrors, [], 'no script errors in the pages');
    }));
});
