import { join } from 'node:path';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, authorizationRequest, discover, redeem, startOidcApp, THIRD_PARTY, WEB_APP, type OidcApp } from '../protocols/oidc/oidc-harness.js';
import { ARTIFACTS, launchChromium } from './browser.js';

/**
 * OpenID Connect in a real browser: the sign-in form, the consent page and the sign-out page,
 * each ending at the application (caught by request interception), with fedgate's CSP as sent;
 * the code is redeemed by openid-client.
 */
describe('OpenID Connect in chromium', () => {
  let browser: Browser;
  let app: OidcApp;

  beforeAll(async () => {
    app = await startOidcApp();
    browser = await launchChromium();
  });
  afterAll(async () => { await browser?.close(); });

  /** Answers every request to the application's origin; returns the URLs it was sent to. */
  async function application(page: Page, origin: string): Promise<URL[]> {
    const seen: URL[] = [];
    await page.route(`${origin}/**`, async (route) => {
      seen.push(new URL(route.request().url()));
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<!DOCTYPE html><title>app</title><h1 id="app">Application</h1>' });
    });
    return seen;
  }

  it('code flow: sign-in form -> back at the application -> openid-client redeems; then RP-initiated logout returns to the application', async () => {
    const page = await browser.newPage();
    const seen = await application(page, 'https://web.test');
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const start = await authorizationRequest(config, WEB_APP.redirect);
    await page.goto(start.url.href);
    await page.locator('form[action="/login"] input[name="pending"]').waitFor({ state: 'attached' }); // the form is the interaction's own answer
    await page.getByLabel('User name').fill(ALICE.login);
    await page.getByLabel('Password').fill(ALICE.password);
    await page.screenshot({ path: join(ARTIFACTS, 'oidc-01-login.png'), fullPage: true });
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#app');
    const tokens = await redeem(config, start, seen[0]!);
    expect(tokens.claims()!.aud).toBe(WEB_APP.client_id);

    await page.goto(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: WEB_APP.logout, state: 'bye' }).href);
    await page.waitForSelector('#signout');
    await page.screenshot({ path: join(ARTIFACTS, 'oidc-02-signout.png'), fullPage: true });
    await page.click('#signout');
    await page.waitForSelector('#app');
    expect(seen.at(-1)?.href).toBe(`${WEB_APP.logout}?state=bye`);
    await page.close();
  });

  it('consent: a third-party application shows the consent page; Allow returns to it with a code', async () => {
    const page = await browser.newPage();
    const seen = await application(page, 'https://partner.test');
    const config = await discover(app, THIRD_PARTY.client_id, THIRD_PARTY.secret);
    const start = await authorizationRequest(config, THIRD_PARTY.redirect);
    await page.goto(start.url.href);
    await page.locator('form[action="/login"] input[name="pending"]').waitFor({ state: 'attached' }); // the form is the interaction's own answer
    await page.getByLabel('User name').fill(ALICE.login);
    await page.getByLabel('Password').fill(ALICE.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#allow');
    await page.screenshot({ path: join(ARTIFACTS, 'oidc-03-consent.png'), fullPage: true });
    await page.click('#allow');
    await page.waitForSelector('#app');
    expect((await redeem(config, start, seen[0]!)).claims()!.aud).toBe(THIRD_PARTY.client_id);
    await page.close();
  });
});
