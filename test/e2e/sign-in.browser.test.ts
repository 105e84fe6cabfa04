import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { startTestApp, type TestApp } from '../harness/app.js';
import { ARTIFACTS, launchChromium, listen } from './browser.js';

/** The sign-in pages as a person uses them: headless chromium, real HTTP, the demo directory. */
describe('sign-in pages in a real browser', () => {
  let browser: Browser;
  let t: TestApp;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp({ demo: true });
    ({ server, baseUrl: base } = await listen(t.app));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('signs in from the start page, shows the claims, signs out', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await expect(page.locator('.demo-banner')).toBeTruthy();
    await page.screenshot({ path: join(ARTIFACTS, '01-home.png'), fullPage: true });
    await page.click('#signin-link');
    await page.locator('form[action="/login"] input[name="pending"]').waitFor({ state: 'attached' }); // the form is the request's own answer
    // Accessible: every field is reachable by its label.
    await page.getByLabel('User name').fill('alice@demo.fedgate.test');
    await page.getByLabel('Password').fill('Demo-alice-1');
    await page.screenshot({ path: join(ARTIFACTS, '02-login.png'), fullPage: true });
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/`);
    expect(await page.textContent('#signed-in-user')).toBe('alice@demo.fedgate.test');
    const claims = await page.locator('table.claims').first().innerText();
    expect(claims).toContain('1MOyofbliUeavN7wEjRWeA==');
    expect(claims).toContain('engineers, staff');
    await page.screenshot({ path: join(ARTIFACTS, '03-claims.png'), fullPage: true });
    await page.click('text=Sign out');
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await page.textContent('main')).toContain('You have signed out');
    await page.screenshot({ path: join(ARTIFACTS, '04-signed-out.png'), fullPage: true });
    await page.goto(`${base}/`);
    expect(await page.textContent('main')).toContain('You are not signed in');
    await page.close();
  });

  it('shows a clear message for a wrong password and for a disabled account, keeping the user name', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/signin`);
    await page.getByLabel('User name').fill('alice');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('[role=alert]').last().innerText()).toContain('Incorrect user name or password');
    expect(await page.getByLabel('User name').inputValue()).toBe('alice');
    await page.screenshot({ path: join(ARTIFACTS, '05-wrong-password.png'), fullPage: true });
    await page.getByLabel('Password').fill('Demo-carol-1');
    await page.getByLabel('User name').fill('carol');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('.error').innerText()).toContain('Your account has been disabled');
    await page.screenshot({ path: join(ARTIFACTS, '06-disabled.png'), fullPage: true });
    await page.close();
  });

  it('works without JavaScript, by keyboard alone', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/signin`);
    await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.id')).toBe('username'); // autofocus
    await page.keyboard.type('DEMO\\bob'); // the user name field has focus
    await page.keyboard.press('Tab'); // the hint is text, not a stop: next is the password
    await page.keyboard.type('Demo-bob-1');
    await Promise.all([page.waitForNavigation({ url: `${base}/`, waitUntil: 'domcontentloaded' }), page.keyboard.press('Enter')]);
    expect(await page.textContent('#signed-in-user')).toBe('bob@demo.fedgate.test');
    await context.close();
  });

  it('an error page a person can understand, with a reference and no stack trace', async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${base}/login?pending=expired-or-made-up-id-0000`);
    expect(res?.status()).toBe(400);
    const text = await page.textContent('main');
    expect(text).toContain('took too long or was already used');
    expect(text).toContain(res?.headers()['x-request-id']);
    await page.screenshot({ path: join(ARTIFACTS, '07-error.png'), fullPage: true });
    await page.close();
  });
});
