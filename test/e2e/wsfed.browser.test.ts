import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { validateLoginSrfPost } from '../entra/login-srf.js';
import { PASSWORD, TENANT_RELYING_PARTIES, TENANT_USERS, immutableIdOf, writeTenantUsers } from '../protocols/wsfed/tenant.js';
import { ARTIFACTS, launchChromium, listen } from './browser.js';

/**
 * The whole Entra round trip in a real browser: the redirect as Entra sends it, the sign-in page,
 * and the token the page posts to login.srf, caught by the browser's request interception and
 * judged by the Entra stand-in (Entra itself cannot be reached from here).
 */
describe('WS-Fed round trip in chromium', () => {
  let browser: Browser;
  let t: TestApp;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp({ directory: { type: 'file', path: await writeTenantUsers() }, relyingParties: TENANT_RELYING_PARTIES });
    ({ server, baseUrl: base } = await listen(t.app));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('Entra redirect -> sign-in page -> token posted to login.srf, accepted by the stand-in', async () => {
    const page = await browser.newPage();
    const posted: Record<string, string>[] = [];
    await page.route('https://login.microsoftonline.com/**', async (route) => {
      posted.push(Object.fromEntries(new URLSearchParams(route.request().postData() ?? '')));
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<!DOCTYPE html><title>login.srf</title><h1 id="entra">Entra stand-in received the token</h1>' });
    });
    const wctx = 'estsredirect=2&estsrequest=rQQIARAAhZE9aBNhGMe';
    const q = new URLSearchParams({ login_hint: TENANT_USERS.alice.login, username: TENANT_USERS.alice.login, wa: 'wsignin1.0',
      wtrealm: 'urn:federation:MicrosoftOnline', wctx });
    const sentAt = new Date();
    await page.goto(`${base}/adfs/ls/?${q}`);
    await page.locator('form[action="/login"] input[name="pending"]').waitFor({ state: 'attached' }); // the form is the request's own answer
    expect(new URL(page.url()).pathname).toBe('/adfs/ls/'); // as AD FS: the form at Entra's redirect, no hop to /login
    expect(await page.getByLabel('User name').inputValue()).toBe(TENANT_USERS.alice.login);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.screenshot({ path: join(ARTIFACTS, 'wsfed-01-login.png'), fullPage: true });
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#entra');
    await page.screenshot({ path: join(ARTIFACTS, 'wsfed-02-entra.png'), fullPage: true });
    expect(posted).toHaveLength(1);
    const cert = t.services.keys.current.certificateBase64;
    const verdict = validateLoginSrfPost(posted[0]!, {
      domains: [{ name: 'contoso.test', issuerUri: 'http://contoso.test/adfs/services/trust/', signingCertificate: cert }],
      users: [{ upn: TENANT_USERS.alice.login, immutableId: immutableIdOf(TENANT_USERS.alice.guid) }],
    }, { wctx, sentAt });
    expect(verdict.errors).toEqual([]);
    expect(verdict.accepted).toBe(true);

    // Single sign-on: the next redirect posts at once, without the sign-in page.
    await page.goto(`${base}/adfs/ls/?${q}`);
    await page.waitForSelector('#entra');
    expect(posted).toHaveLength(2);
    await page.close();
  });

  it('without JavaScript the token page waits for Continue', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.route('https://login.microsoftonline.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<h1 id="entra">ok</h1>' }));
    const q = new URLSearchParams({ wa: 'wsignin1.0', wtrealm: 'urn:federation:MicrosoftOnline', username: TENANT_USERS.fred.login });
    await page.goto(`${base}/adfs/ls/?${q}`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#continue');
    await page.screenshot({ path: join(ARTIFACTS, 'wsfed-03-continue.png'), fullPage: true });
    await page.click('#continue');
    await page.waitForSelector('#entra');
    await context.close();
  });
});
