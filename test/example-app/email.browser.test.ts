import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { type ExampleSite, startExampleSite } from '../helpers/browser.js';

// Email and SMS codes in the example app, in real headless Chromium, with no provider keys: codes go to
// the dev outbox and are read from its page, as a newcomer trying the example would.
describe('example app: codes by email and text message', () => {
  let site: ExampleSite | undefined;
  let page: Page;
  let outbox: Page;
  let base = '';
  let logs: string[] = [];
  let pageErrors: string[] = [];

  const email = `grace.${Date.now()}@example.com`;
  /** The app's clock runs ahead by this much: resend cooldowns pass without sleeping. */
  let skewMs = 0;
  const password = 'correct horse battery staple';

  before(async () => {
    site = await startExampleSite({ outbox: true, now: () => Date.now() + skewMs });
    ({ base, logs, pageErrors } = site);
    page = await site.newPage();
    // The page's clock moves with the app's: resend countdowns end when the app's cooldown does.
    await page.clock.install();
    outbox = await site.newPage({ context: page.context() });
    await page.bringToFront();
  });

  after(() => site?.close());

  // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator method, not the DOM property.
  const text = async (p: Page, selector: string) => (await p.locator(selector).innerText()).trim();

  /** The code in the newest outbox message for `channel`, read from the /dev/outbox page. */
  async function codeFromOutbox(channel: 'email' | 'sms', to: string): Promise<string> {
    await outbox.goto(`${base}/dev/outbox`);
    const newest = outbox.locator(`.outbox-message[data-channel="${channel}"]`).first();
    await newest.waitFor();
    assert.equal(await newest.getAttribute('data-to'), to);
    // textContent needs no layout, so a background tab or a refresh in flight cannot blank it.
    const body = (await newest.locator('.outbox-text').textContent()) ?? '';
    // Back to the site's tab: a background tab gets few animation frames, and every click waits for them.
    await page.bringToFront();
    return /\b(\d{6})\b/.exec(body)?.[1] ?? assert.fail(`no code in ${body}`);
  }

  test('a new user confirms the sensitive action with a code from the email outbox', async () => {
    assert.ok(
      logs.some((line) => line.includes('/dev/outbox')),
      'the app says where codes go',
    );

    await page.goto(`${base}/`);
    await page.locator('#signup-email').fill(email);
    await page.locator('#signup-password').fill(password);
    await page.locator('#signup-submit').click();
    await page.waitForURL(`${base}/account`);
    await page.locator('#email-codes', { hasText: email }).waitFor();

    await page.locator('#nav-sensitive').click();
    await page.waitForURL(`${base}/sensitive`);
    await page.locator('#sensitive-run').click();
    await page.waitForURL(`${base}/verify?next=%2Fsensitive`);
    await page.locator('#email-section').waitFor({ state: 'visible' });
    assert.ok(await page.locator('#no-factors').isHidden(), 'email is a factor: nothing to set up first');

    await page.locator('#email-send').click();
    await page.locator('#email-sent', { hasText: 'g***@example.com' }).waitFor();
    const code = await codeFromOutbox('email', email);
    assert.match(
      await text(outbox, '.outbox-message[data-channel="email"] .outbox-subject'),
      /verification code/,
    );

    // A wrong code is refused and keeps the user here.
    await page.locator('#email-verify-code').fill(code === '000000' ? '111111' : '000000');
    await page.locator('#email-verify-submit').click();
    await page.locator('#email-verify-code-error', { hasText: 'That code is not right' }).waitFor();

    // A reload keeps the code box (the code emailed still works) and the resend countdown.
    await page.reload();
    await page.locator('#email-verify-form').waitFor({ state: 'visible' });
    assert.match(await text(page, '#email-sent'), /g\*\*\*@example\.com/);
    assert.ok(await page.getByRole('button', { name: /Send a new code \(0:\d\d\)/ }).isDisabled());
    assert.ok(
      await page.getByRole('link', { name: 'dev outbox' }).first().isVisible(),
      'dev: a link to the outbox',
    );

    // Past its lifetime the code is refused as expired (the page knows when the code it asked for ends).
    // (6 minutes: past the code's 5, within the 10 the page keeps the export to resume.)
    skewMs += 6 * 60_000;
    await page.clock.fastForward(6 * 60_000);
    await page.locator('#email-verify-code').fill(code);
    await page.locator('#email-verify-submit').click();
    await page.locator('#email-verify-code-error', { hasText: 'This code has expired' }).waitFor();
    await page.getByRole('button', { name: 'Send a new code', exact: true }).click();
    await page.locator('#email-sent', { hasText: 'We sent a code' }).waitFor();
    const fresh = await codeFromOutbox('email', email);

    await page.locator('#email-verify-code').fill(fresh);
    await page.locator('#email-verify-submit').click();
    await page.waitForURL(`${base}/sensitive`);
    assert.equal(await text(page, '#notice'), 'Verified. You can continue.');
    // The export runs by itself after the step-up.
    await page.locator('#sensitive-result').waitFor({ state: 'visible' });
    assert.equal(await text(page, '#sensitive-result h2'), 'Your export is ready');
  });

  test('binding a phone on the account page, then verifying with a text message after a new login', async () => {
    await page.locator('#nav-account').click();
    await page.waitForURL(`${base}/account`);
    await page.locator('#sms-status', { hasText: 'Off' }).waitFor();
    // The session was just verified by email, so adding a factor needs no new step-up.
    await page.locator('#sms-phone').fill('+1 415 555 2671');
    await page.locator('#sms-setup-submit').click();
    await page.locator('#sms-confirm-form').waitFor({ state: 'visible' });
    assert.match(await text(page, '#sms-confirm-to'), /We texted a code to \+1 415 555 2671/);
    // A reload keeps the number waiting for its code (the text already sent still works), as the
    // server's status lists it: masked.
    await page.reload();
    await page.locator('#sms-confirm-form').waitFor({ state: 'visible' });
    assert.match(await text(page, '#sms-confirm-to'), /We texted a code to \+\*{7}2671/);
    assert.ok(await page.getByRole('button', { name: /Text me a new code \(0:\d\d\)/ }).isDisabled());
    const code = await codeFromOutbox('sms', '+14155552671');
    await page.locator('#sms-confirm-code').fill(code);
    await page.locator('#sms-confirm-submit').click();
    await page.locator('#sms-status', { hasText: 'On, to +*******2671' }).waitFor();
    // The first real factor brings backup codes, shown once.
    await page.locator('#backup-codes-panel').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#backup-codes li').count(), 10);
    await page.locator('#backup-codes-done').click();
    await outbox.goto(`${base}/dev/outbox`);
    await outbox
      .locator('.outbox-message[data-channel="sms"] .outbox-text', { hasText: 'confirm this phone number' })
      .first()
      .waitFor();
    await page.bringToFront();

    await page.locator('#logout').click();
    await page.waitForURL(`${base}/`);
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill(password);
    await page.locator('#login-submit').click();
    // With a phone bound, the password alone does not sign in: a text message finishes it.
    await page.waitForURL(`${base}/verify?signIn=1`);
    await page.locator('#verify-title', { hasText: 'Finish signing in' }).waitFor();
    await page.locator('#sms-section').waitFor({ state: 'visible' });
    assert.match(await text(page, '#sms-to'), /2671/);
    await page.locator('#sms-send').click();
    // Within 30 s of the confirmation code: the button counts down instead of failing.
    await page.locator('#sms-sent', { hasText: 'sent a moment ago' }).waitFor();
    const held = page.getByRole('button', { name: /Text me a code \(0:\d\d\)/ });
    assert.ok(await held.isDisabled());
    skewMs += 31_000;
    await page.clock.fastForward(31_000);
    await page.getByRole('button', { name: 'Text me a code', exact: true }).waitFor();
    await page.locator('#sms-send').click();
    await page.locator('#sms-sent').waitFor({ state: 'visible' });
    await page.locator('#sms-verify-code').fill(await codeFromOutbox('sms', '+14155552671'));
    await page.locator('#sms-verify-submit').click();
    await page.waitForURL(`${base}/account`);
    await page.locator('#verified-at').waitFor();
    assert.notEqual(await text(page, '#verified-at'), 'Not in this session');

    // The security notice went to the account's email.
    await outbox.goto(`${base}/dev/outbox`);
    assert.ok(
      (await outbox.locator('.outbox-subject').allInnerTexts()).some((s) => s.includes('security notice')),
      'a security notice was emailed',
    );
    assert.deepEqual(pageErrors, [], 'no script errors in the pages');
  });
});
