import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateSync } from 'otplib';
import type { BrowserContext, Page } from 'playwright-core';
import { type ExampleSite, seriousA11yViolations, sideScroll, startExampleSite } from '../helpers/browser.js';

// The whole example site as a person meets it, on a laptop and on a phone: every page passes axe-core
// (no serious or critical violation) and fits 375 px without scrolling sideways; sign-up, setup and
// sign-in work from the keyboard alone; lockouts, backup codes and error pages say what to do next.
describe('example app: the whole site, accessible and on a phone', () => {
  let site: ExampleSite | undefined;
  let base = '';
  let pageErrors: string[] = [];
  let skewMs = 0;
  const appNow = () => Date.now() + skewMs;
  const password = 'correct horse battery staple';
  const email = `katherine.${Date.now()}@example.com`;
  let secret = '';
  const totp = () => generateSync({ secret, epoch: Math.floor(appNow() / 1000) });
  let backupCodes: string[] = [];
  /** Every page state checked, with what axe found and how far it scrolls sideways at 375 px. */
  const audits: { name: string; serious: string[]; scroll: number }[] = [];

  before(async () => {
    site = await startExampleSite({ outbox: true, now: appNow });
    ({ base, pageErrors } = site);
  });
  after(() => site?.close());

  /** axe-core on the page as it is now, at its width (375 px for phone tabs). */
  async function audit(page: Page, name: string) {
    const violations = await seriousA11yViolations(page);
    audits.push({
      name,
      serious: violations.map((v) => `${v.id}: ${v.help} (${v.targets.join(', ')})`),
      scroll: await sideScroll(page),
    });
  }

  async function phone(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await site!.browser.newContext({ viewport: { width: 375, height: 740 }, hasTouch: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    return { context, page: await site!.newPage({ context }) };
  }

  const codeFromOutbox = (page: Page, channel: 'email' | 'sms') => site!.codeFromOutbox(page, channel);

  test('keyboard only: sign up, confirm by email, set up the authenticator app, keep the backup codes', (t) =>
    site!.step(t, async () => {
      const { page } = await phone();
      await page.goto(`${base}/`);
      await audit(page, 'login page');
      // Tab from the top of the page to the sign-up form, typing as a person would.
      const focused = () => page.evaluate(() => document.activeElement?.id ?? '');
      for (let i = 0; i < 30 && (await focused()) !== 'signup-name'; i++) await page.keyboard.press('Tab');
      assert.equal(await focused(), 'signup-name', 'the sign-up form is reachable with Tab');
      await page.keyboard.type('Katherine');
      await page.keyboard.press('Tab');
      await page.keyboard.type(email);
      await page.keyboard.press('Tab');
      await page.keyboard.type(password);
      await page.keyboard.press('Enter');
      await page.waitForURL(`${base}/account`);
      await page.locator('#totp-status', { hasText: 'Off' }).waitFor();
      await audit(page, 'account page, new user');
      assert.ok(
        await page.getByRole('link', { name: 'Dev outbox' }).isVisible(),
        'dev: the outbox is linked',
      );

      // The setup button, by keyboard: the fresh confirmation happens in a dialog, then setup goes on.
      await page.getByRole('button', { name: 'Set up authenticator app' }).focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
      await dialog.waitFor();
      assert.equal(await focused(), 'step-up-send', 'the dialog takes the focus');
      await page.keyboard.press('Enter');
      await dialog.getByRole('status').filter({ hasText: 'We sent a code' }).waitFor();
      assert.equal(await focused(), 'step-up-code');
      await audit(page, 'inline confirmation dialog');
      await page.keyboard.type(await codeFromOutbox(page, 'email'));
      await page.keyboard.press('Enter');
      await page.locator('#totp-secret').waitFor({ state: 'visible' });

      // On a phone: the key in groups of four, a copy button, and a link that opens the app.
      const shown = (await page.locator('#totp-secret').textContent()) ?? '';
      assert.match(shown, /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
      secret = shown.replaceAll(' ', '');
      await page.getByRole('button', { name: 'Copy key' }).click();
      await page.getByText('Key copied.').waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
      const uri = await page.getByRole('link', { name: 'Add to my authenticator app' }).getAttribute('href');
      assert.match(uri ?? '', /^otpauth:\/\/totp\//);
      await audit(page, 'authenticator app setup');

      // A wrong code: said under the field, which keeps the focus for another try.
      await page.getByLabel(/Enter the 6-digit code/).focus();
      await page.keyboard.type('000000');
      await page.keyboard.press('Enter');
      await page.locator('#totp-code-error', { hasText: 'not right' }).waitFor();
      assert.equal(await focused(), 'totp-code');
      await audit(page, 'authenticator app setup, wrong code');
      await page.keyboard.type(totp());
      await page.keyboard.press('Enter');

      // The backup codes: one per line, copy / download / print, and a warning before leaving.
      const panel = page.getByRole('heading', { name: 'Your backup codes' });
      await panel.waitFor();
      assert.equal(await focused(), 'backup-codes-title', 'the codes take the focus');
      backupCodes = (await page.locator('#backup-codes li').allTextContents()).map((c) => c.trim());
      assert.equal(backupCodes.length, 10);
      const oneLine = await page
        .locator('#backup-codes li')
        .evaluateAll((items) =>
          items.every(
            (li) =>
              li.getBoundingClientRect().height < 1.6 * Number.parseFloat(getComputedStyle(li).lineHeight),
          ),
        );
      assert.ok(oneLine, 'each code on one line at 375 px');
      assert.equal(
        await page.evaluate(() => {
          const event = new Event('beforeunload', { cancelable: true });
          dispatchEvent(event);
          return event.defaultPrevented;
        }),
        true,
        'leaving the page while the codes are shown asks first',
      );
      await page.getByRole('button', { name: 'Copy', exact: true }).click();
      await page.getByText('Copied: paste them').waitFor();
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      for (const code of backupCodes)
        assert.ok(copied.split('\n').includes(code), `${code} is copied on its own line`);
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Download .txt' }).click();
      const file = await download;
      assert.match(file.suggestedFilename(), /backup-codes\.txt$/);
      const saved = await (await file.createReadStream()).toArray();
      assert.ok(Buffer.concat(saved).toString().includes(backupCodes[0]!));
      await page.evaluate(() => {
        (globalThis as unknown as { printed: number }).printed = 0;
        globalThis.print = () => {
          (globalThis as unknown as { printed: number }).printed++;
        };
      });
      await page.getByRole('button', { name: 'Print' }).click();
      assert.equal(await page.evaluate(() => (globalThis as unknown as { printed: number }).printed), 1);
      await page.emulateMedia({ media: 'print' });
      assert.ok(await page.locator('#backup-codes').isVisible());
      assert.ok(
        await page.getByRole('button', { name: "I've saved them" }).isHidden(),
        'print shows only the codes',
      );
      await page.emulateMedia({ media: 'screen' });
      await audit(page, 'backup codes');
      await page.getByRole('button', { name: "I've saved them" }).click();
      assert.equal(
        await page.evaluate(() => {
          const event = new Event('beforeunload', { cancelable: true });
          dispatchEvent(event);
          return event.defaultPrevented;
        }),
        false,
        'no warning once they are saved',
      );
      await page.goto(`${base}/sensitive`);
      await audit(page, 'sensitive action page');
      await page.goto(`${base}/dev/outbox`);
      await audit(page, 'dev outbox');
      await page.context().close();
    }));

  test('keyboard only: sign in with the password and the app; a lockout names the factor, counts down and offers the others', (t) =>
    site!.step(t, async () => {
      const { page } = await phone();
      await page.goto(`${base}/`);
      await page.getByLabel('Email', { exact: true }).first().focus();
      await page.keyboard.type(email);
      await page.keyboard.press('Tab');
      await page.keyboard.type(password);
      await page.keyboard.press('Enter');
      await page.waitForURL(`${base}/verify?signIn=1`);
      await page.getByRole('heading', { name: 'Finish signing in' }).waitFor();
      assert.equal(
        await page.evaluate(() => document.activeElement?.id),
        'totp-verify-code',
        'the code field has the focus',
      );
      await audit(page, 'verify page, pending sign-in');

      // Wrong codes lock the app (after 5): the section says so, counts down in minutes, offers the others.
      const lock = page.getByRole('alert').filter({ hasText: 'authenticator app locked' });
      const field = page.getByLabel('6-digit code from your app');
      for (let i = 0; i < 7 && !(await lock.isVisible()); i++) {
        await field.fill('000000');
        const answered = page.waitForResponse('**/auth/mfa/totp/verify');
        await page.keyboard.press('Enter');
        await answered;
        await page.locator('#totp-verify-code-error:visible, .lock:visible').first().waitFor();
        if (i === 0)
          assert.match((await page.locator('#totp-verify-code-error').textContent()) ?? '', /not right/);
      }
      await lock.waitFor();
      assert.match((await lock.textContent()) ?? '', /Try again in 1[45] minutes/);
      assert.ok(await page.getByLabel('6-digit code from your app').isDisabled());
      await audit(page, 'verify page, locked');
      // The lock survives a reload: the server knows it.
      await page.reload();
      await lock.waitFor();
      assert.match((await lock.textContent()) ?? '', /minutes/);
      // The other factor, from the lock's own offer, by keyboard.
      await lock.getByRole('button', { name: 'a backup code' }).focus();
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'backup-verify-code');
      await page.keyboard.type(backupCodes[0]!);
      await page.keyboard.press('Enter');
      await page.waitForURL(`${base}/account?verified=1`);
      await page.locator('#locks li[data-factor="totp"]', { hasText: /locked for 1[45] minutes/ }).waitFor();
      await audit(page, 'account page, locked factor');

      // Later (the step-up window has passed), new backup codes: the app is locked, so "another way"
      // leads to the verify page, and back on the account page the codes are created by themselves.
      skewMs += 6 * 60_000;
      page.on('dialog', (d) => d.accept());
      await page.getByRole('button', { name: 'Create new backup codes' }).click();
      const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
      await dialog.getByLabel('6-digit code from your authenticator app').waitFor();
      await dialog.getByRole('link', { name: 'Use another way' }).click();
      await page.waitForURL(`${base}/verify?next=%2Faccount`);
      await page.locator('#email-section').waitFor();
      await audit(page, 'verify page, step-up: email, backup codes and a locked app');
      await page.getByText('Use a backup code instead').click();
      await page.getByLabel('Backup code').fill(backupCodes[1]!);
      await page.getByRole('button', { name: 'Use backup code' }).click();
      await page.waitForURL(`${base}/account`);
      await page.getByRole('heading', { name: 'Your backup codes' }).waitFor();
      const fresh = (await page.locator('#backup-codes li').allTextContents()).map((c) => c.trim());
      assert.equal(fresh.length, 10);
      assert.ok(!fresh.includes(backupCodes[2]!), 'new codes, not the old ones');
      backupCodes = fresh;
      await page.getByRole('button', { name: "I've saved them" }).click();
      await page.context().close();
    }));

  test('recovery and unknown addresses, on a phone: styled pages, no raw text', (t) =>
    site!.step(t, async () => {
      const { page } = await phone();
      await page.goto(`${base}/recover`);
      await audit(page, 'recovery step 1');
      await page.getByLabel('Email address of your account').fill(email);
      await page.getByRole('button', { name: 'Email me a recovery code' }).click();
      await page.getByRole('heading', { name: '2. Enter the code' }).waitFor();
      assert.ok(await page.getByRole('main').getByRole('link', { name: 'dev outbox' }).isVisible());
      // A reload keeps step 2 (the code already emailed still works).
      await page.reload();
      await page.getByRole('heading', { name: '2. Enter the code' }).waitFor();
      await page.getByLabel(/Recovery code/).fill('aaaa-aaaa-aaaa-aaaa');
      await page.getByRole('button', { name: 'Recover my account' }).click();
      await page.locator('#recover-code-error', { hasText: 'not right' }).waitFor();
      await audit(page, 'recovery step 2, wrong code');
      const outbox = await site!.newPage({ context: page.context() });
      await outbox.goto(`${base}/dev/outbox`);
      const mail =
        (await outbox
          .locator('.outbox-message', { hasText: 'Recover your' })
          .first()
          .locator('.outbox-text')
          .textContent()) ?? '';
      await outbox.close();
      await page.bringToFront();
      const recoveryCode =
        /\b([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})\b/.exec(mail)?.[1] ?? assert.fail(mail);
      await page.getByLabel(/Recovery code/).fill(recoveryCode);
      await page.getByRole('button', { name: 'Recover my account' }).click();
      await page.getByRole('heading', { name: '3. Set up a new second factor' }).waitFor();
      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      await page.locator('#totp-secret').waitFor({ state: 'visible' });
      await audit(page, 'recovery step 3, authenticator app setup');

      const missing = await page.goto(`${base}/no/such/page`);
      assert.equal(missing?.status(), 404);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      assert.ok(await page.getByRole('link', { name: 'Go to the start page' }).isVisible());
      await audit(page, '404 page');
      // The audit itself can fail: an image without a text alternative is a critical violation.
      await page.evaluate(() => document.body.append(document.createElement('img')));
      assert.ok((await seriousA11yViolations(page)).some((v) => v.id === 'image-alt'));
      // API clients keep JSON.
      const api = await page.request.get(`${base}/no/such/page`, { headers: { Accept: 'application/json' } });
      assert.equal((await api.json()).error, 'not_found');
      await page.context().close();
    }));

  test('while the store is down every page is the styled 503 page, and the API stays JSON', (t) =>
    site!.step(t, async () => {
      const { page } = await phone();
      await page.goto(`${base}/`);
      await page.getByLabel('Email', { exact: true }).nth(1).fill(`down.${email}`);
      await page.getByLabel(/^Password \(8/).fill(password);
      await page.getByRole('button', { name: 'Sign up' }).click();
      await page.waitForURL(`${base}/account`);
      const guest = await site!.newPage();
      await guest.goto(`${base}/`);
      await site!.redis.stop();
      try {
        for (const path of ['/', '/account', '/verify', '/recover']) {
          const res = await page.goto(`${base}${path}`);
          assert.equal(res?.status(), 503, path);
          await page.getByRole('heading', { name: 'We are having trouble right now' }).waitFor();
        }
        assert.ok(await page.getByRole('link', { name: 'Try again' }).isVisible());
        await audit(page, '503 page');
        const api = await page.request.get(`${base}/auth/mfa/`, { headers: { Accept: 'application/json' } });
        assert.equal(api.status(), 503);
        assert.equal((await api.json()).error, 'unavailable');
        // A visitor without a session still sees the login page; logging in says what is wrong.
        await guest.getByLabel('Email', { exact: true }).first().fill(email);
        await guest.getByLabel('Password', { exact: true }).fill(password);
        await guest.getByRole('button', { name: 'Log in' }).click();
        await guest
          .getByRole('alert')
          .filter({ hasText: /unavailable/ })
          .waitFor();
        await guest.context().close();
      } finally {
        await site!.redis.restart();
      }
      await page.context().close();
    }));

  test('every page state checked: 0 serious or critical axe violations, nothing scrolls sideways at 375 px', (t) => {
    t.diagnostic(`audited: ${audits.map((a) => a.name).join(', ')}`);
    assert.ok(audits.length >= 15, `all page states were audited (${audits.map((a) => a.name).join(', ')})`);
    assert.deepEqual(
      audits.filter((a) => a.serious.length > 0).map((a) => ({ name: a.name, serious: a.serious })),
      [],
    );
    assert.deepEqual(
      audits.filter((a) => a.scroll > 0).map((a) => `${a.name}: ${a.scroll}px`),
      [],
    );
    assert.deepEqual(pageErrors, [], 'no script errors in the pages');
  });
});
