import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import type { Profile, SAML } from '@node-saml/node-saml';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { federationIdentifier } from '../../src/config/schema.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { ALICE, PERSISTENT, SP_CERT, spClient, unsignedSpClient, type SpDefinition } from '../protocols/saml/sp-client.js';
import { ARTIFACTS, launchChromium, listen } from './browser.js';

/**
 * SAML 2.0 in a real browser, against two tiny service providers that are nothing but
 * @node-saml/node-saml behind express, each on its own loopback port: SP-initiated sign-in through
 * fedgate's sign-in page (with and without JavaScript), single sign-on to the second SP, and single
 * logout started at the first that reaches the second. Everything the SPs accept, node-saml judged.
 */
const EMAIL = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress';

/** One SP: it remembers the one person signed in to it, and what fedgate's logout did to it. */
interface TinySp {
  readonly name: string;
  origin: string;
  saml: SAML;
  profile: Profile | undefined;
  logoutRequests: number;
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const show = (res: Response, title: string, body: string) =>
  res.type('html').send(`<!DOCTYPE html><title>${title}</title><h1>${title}</h1>${body}`);

/** The top status and its sub-status of a Redirect-binding LogoutResponse, e.g. "Success" or "Success PartialLogout". */
const logoutStatus = (encoded: string) =>
  [...inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8').matchAll(/StatusCode Value="[^"]*:([^":]+)"/g)].map((m) => m[1]).join(' ');

function spApp(sp: TinySp): express.Express {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.get('/', (_req, res) => show(res, sp.name, sp.profile ? `<p id="user">${escape(sp.profile.nameID)}</p>` : '<p id="anonymous">Not signed in</p>'));
  // ?to= is where to go after sign-in, carried in RelayState (as many SPs send people on to the application).
  app.get('/login', async (req, res) => res.redirect(await sp.saml.getAuthorizeUrlAsync(String(req.query.to ?? '/'), undefined, {})));
  app.post('/acs', async (req, res) => {
    const body = req.body as Record<string, string>;
    const { profile } = await sp.saml.validatePostResponseAsync(body);
    sp.profile = profile!;
    if (body.RelayState?.startsWith('http')) return res.redirect(303, body.RelayState);
    show(res, sp.name, `<p id="user">Signed in as <b id="nameid">${escape(profile!.nameID)}</b> <b id="email">${escape(String(profile![EMAIL]))}</b></p>`);
  });
  app.get('/logout', async (_req, res) => res.redirect(await sp.saml.getLogoutUrlAsync(sp.profile!, 'after-logout', {})));
  app.get('/slo', async (req, res) => {
    // node-saml checks the query signature over the octets as sent.
    const result = await sp.saml.validateRedirectAsync(req.query, req.originalUrl.slice(req.originalUrl.indexOf('?') + 1));
    sp.profile = undefined;
    if (typeof req.query.SAMLRequest === 'string') {
      sp.logoutRequests += 1;
      return res.redirect(await sp.saml.getLogoutResponseUrlAsync(result.profile!, String(req.query.RelayState ?? ''), {}, true));
    }
    show(res, sp.name, `<p id="signed-out">Signed out: <b id="status">${logoutStatus(String(req.query.SAMLResponse))}</b> ${escape(String(req.query.RelayState))}</p>`);
  });
  // What node-saml refused, on the page, for the test's failure message.
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => { res.status(500); show(res, `${sp.name} error`, `<pre id="error">${escape(err.message)}</pre>`); });
  return app;
}

describe('SAML 2.0 in chromium, two node-saml SPs', () => {
  let browser: Browser;
  let t: TestApp;
  let base: string;
  const servers: Server[] = [];
  const spA: TinySp = { name: 'SP A', origin: '', saml: undefined!, profile: undefined, logoutRequests: 0 };
  const spB: TinySp = { name: 'SP B', origin: '', saml: undefined!, profile: undefined, logoutRequests: 0 };

  beforeAll(async () => {
    for (const sp of [spA, spB]) {
      const { server, baseUrl } = await listen(spApp(sp));
      servers.push(server);
      sp.origin = baseUrl;
    }
    // fedgate's baseUrl must be the URL the browser uses: Destination and the endpoints are checked against it.
    const idp = createServer();
    servers.push(idp);
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    // SP A signs its requests (fedgate requires it) and gets encrypted assertions; SP B sends its requests unsigned.
    const definition = (sp: TinySp, settings: Record<string, unknown>): SpDefinition => ({
      entityId: `${sp.origin}/saml`, acs: `${sp.origin}/acs`, slo: `${sp.origin}/slo`,
      config: { protocol: 'saml', identifier: `${sp.origin}/saml`, displayName: sp.name, replyUrls: [`${sp.origin}/acs`], singleLogoutUrl: `${sp.origin}/slo`, ...settings },
    });
    const a = definition(spA, { signingCertificates: [SP_CERT], requireSignedRequests: true, encryptionCertificate: SP_CERT });
    const b = definition(spB, {});
    t = await startTestApp({ server: { baseUrl: base }, relyingParties: [a.config, b.config] });
    idp.on('request', t.app);
    const issuer = { idpIssuer: federationIdentifier(t.config) };
    spA.saml = spClient(t, a, issuer);
    spB.saml = unsignedSpClient(t, b, issuer);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.close();
  });

  /** CSP violations chromium reports on the console (the auto-post page runs under a narrowed CSP). */
  const cspViolations = (page: Page) => {
    const seen: string[] = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) seen.push(m.text()); });
    return seen;
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `saml-${name}.png`), fullPage: true });
  const signIn = async (page: Page) => {
    await page.locator('form[action="/login"] input[name="pending"]').waitFor({ state: 'attached' }); // the form is the request's own answer
    await page.getByLabel('User name').fill(ALICE.login);
    await page.getByLabel('Password').fill(ALICE.password);
  };

  it('SP A: sign-in page -> ACS; SP B by SSO; logout at SP A logs out of SP B too', async () => {
    const page = await browser.newPage();
    const violations = cspViolations(page);
    const navigations: string[] = [];
    page.on('request', (r) => { if (r.isNavigationRequest()) navigations.push(r.url()); });

    await page.goto(`${spA.origin}/login`);
    await signIn(page);
    await shot(page, '01-login');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#user', { timeout: 10_000 }).catch(async () => { throw new Error(`not signed in at SP A: ${page.url()} ${await page.innerText('body')}`); });
    expect(page.url()).toBe(`${spA.origin}/acs`);
    expect(await page.innerText('#email')).toBe(ALICE.login);
    const nameIdA = await page.innerText('#nameid');
    expect(spA.profile?.nameIDFormat).toBe(PERSISTENT);
    expect(spA.profile?.getSamlResponseXml?.()).toContain(':EncryptedAssertion>'); // node-saml decrypted it
    await shot(page, '02-sp-a-signed-in');

    // Single sign-on: SP B's request is answered at once, without the sign-in page.
    navigations.length = 0;
    await page.goto(`${spB.origin}/login`);
    await page.waitForSelector('#user');
    expect(navigations.filter((u) => u.startsWith(base))).toEqual([expect.stringMatching(/\/saml\/sso\?SAMLRequest=/)]);
    expect(await page.innerText('#email')).toBe(ALICE.login);
    // Persistent NameIDs are pairwise: SP B cannot correlate alice with SP A by it.
    expect(await page.innerText('#nameid')).not.toBe(nameIdA);
    await shot(page, '03-sp-b-sso');

    // Single logout from SP A: fedgate walks the browser through SP B's logout, then answers SP A.
    await page.goto(`${spA.origin}/logout`);
    await page.waitForSelector('#signed-out, #error');
    await shot(page, '04-sp-a-signed-out');
    expect(await page.innerText('body')).toContain('Signed out: Success after-logout');
    expect(spB.logoutRequests).toBe(1);
    expect([spA.profile, spB.profile]).toEqual([undefined, undefined]);

    // The fedgate session is gone too: SP B gets the sign-in page again.
    await page.goto(`${spB.origin}/login`);
    await page.locator('form[action="/login"] input[name="pending"]').waitFor({ state: 'attached' }); // the form is the request's own answer
    expect(violations).toEqual([]);
    await page.close();
  });

  it('without JavaScript the response page waits for Continue, then SP A signs the person in', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const violations = cspViolations(page);
    await page.goto(`${spA.origin}/login`);
    await signIn(page);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#continue');
    await shot(page, '05-continue-no-js');
    await page.click('#continue');
    await page.waitForSelector('#user');
    expect(await page.innerText('#email')).toBe(ALICE.login);
    expect(violations).toEqual([]);
    await context.close();
  });

  // Chromium applies form-action to the redirects that follow the POST: the auto-post page allows
  // the ACS's scheme (src/http/csp.ts formTargets), or an SP sending the person on to another
  // origin (RelayState, an application host) would be blocked at fedgate's page.
  it('an ACS that redirects to another origin after the POST is reached', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations = cspViolations(page);
    await page.route(/\/\/app\.test\//, (route) => route.fulfill({ contentType: 'text/html', body: '<p id="app">application</p>' }));
    await page.goto(`${spA.origin}/login?to=${encodeURIComponent('http://app.test/')}`);
    await signIn(page);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#app', { timeout: 3_000 });
    expect(violations).toEqual([]);
    await context.close();
  });
});
