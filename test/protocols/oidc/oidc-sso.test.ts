import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { ALICE, authorizationRequest, BOB, Browser, discover, OIDC_CLIENTS, redeem, signInWithCode, startOidcApp, submitLogin, THIRD_PARTY, WEB_APP } from './oidc-harness.js';

/** A WS-Federation application beside the OpenID Connect clients. */
const WSFED_APP = { identifier: 'urn:test:intranet', replyUrl: 'https://intranet.test/signin-wsfed' };
const WSFED_SIGNIN = `/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(WSFED_APP.identifier)}`;
const withWsfed = () => startOidcApp({ relyingParties: [...OIDC_CLIENTS, { protocol: 'wsfed', identifier: WSFED_APP.identifier, replyUrls: [WSFED_APP.replyUrl] }] });

describe('OpenID Connect: sessions, prompts and sign-out', () => {
  it('prompt=none without a session: login_required at the redirect URI, with the state', async () => {
    const app = await startOidcApp();
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const start = await authorizationRequest(config, WEB_APP.redirect, { prompt: 'none' });
    const step = await new Browser(app.baseUrl).follow(start.url.href);
    expect(step.left?.origin + step.left!.pathname).toBe(WEB_APP.redirect);
    expect(step.left?.searchParams.get('error')).toBe('login_required');
    expect(step.left?.searchParams.get('state')).toBe(start.state);
    await expect(redeem(config, start, step.left!)).rejects.toMatchObject({ error: 'login_required' });
  });

  it('prompt=none with a session: a code at once, no form', async () => {
    const app = await startOidcApp();
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const browser = new Browser(app.baseUrl);
    const first = await signInWithCode(app, browser, config, WEB_APP.redirect);
    const start = await authorizationRequest(config, WEB_APP.redirect, { prompt: 'none' });
    const step = await browser.follow(start.url.href);
    const tokens = await redeem(config, start, step.left!);
    expect(tokens.claims()!.sub).toBe(first.tokens.claims()!.sub);
    expect(app.t.audits('signin.success')).toHaveLength(1);
  });

  it('prompt=login forces the form even with a session, and auth_time is the new sign-in', async () => {
    const app = await startOidcApp();
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const browser = new Browser(app.baseUrl);
    const first = await signInWithCode(app, browser, config, WEB_APP.redirect, ALICE, { max_age: '3600' });
    await new Promise((r) => setTimeout(r, 1100));
    const start = await authorizationRequest(config, WEB_APP.redirect, { prompt: 'login', max_age: '3600' });
    const form = await browser.follow(start.url.href);
    expect(form.left).toBeUndefined();
    expect(form.html).toContain('name="Password"');
    const back = await submitLogin(browser, form, ALICE);
    const tokens = await redeem(config, start, back.left!);
    expect(tokens.claims()!.auth_time).toBeGreaterThan(first.tokens.claims()!.auth_time!);
    expect(app.t.audits('signin.success')).toHaveLength(2);
  });

  it('max_age=0 forces the form even with a session', async () => {
    const app = await startOidcApp();
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const browser = new Browser(app.baseUrl);
    await signInWithCode(app, browser, config, WEB_APP.redirect);
    await new Promise((r) => setTimeout(r, 1100));
    const start = await authorizationRequest(config, WEB_APP.redirect, { max_age: '0' });
    const form = await browser.follow(start.url.href);
    expect(form.html).toContain('name="Password"');
  });

  it('cross-protocol SSO: signed in through WS-Fed, the OIDC application gets a code without the form', async () => {
    const app = await withWsfed();
    const browser = new Browser(app.baseUrl);
    const wsfed = await browser.follow(WSFED_SIGNIN);
    const posted = await submitLogin(browser, wsfed, ALICE);
    expect(posted.html).toContain(`action="${WSFED_APP.replyUrl}"`);
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const start = await authorizationRequest(config, WEB_APP.redirect);
    const step = await browser.follow(start.url.href);
    expect(step.left, step.html.slice(0, 300)).toBeDefined();
    const tokens = await redeem(config, start, step.left!);
    expect(tokens.claims()!.sub).toBeTruthy();
    expect(app.t.audits('signin.success')).toHaveLength(1);
    expect(app.t.audits('sso.reused').map((e) => e.application)).toContain(WEB_APP.client_id);
  });

  it('cross-protocol SSO is silent: after a WS-Fed sign-in, prompt=none gets a code (ID token auth_time = the WS-Fed sign-in)', async () => {
    const app = await withWsfed();
    const browser = new Browser(app.baseUrl);
    const before = Math.floor(Date.now() / 1000);
    await submitLogin(browser, await browser.follow(WSFED_SIGNIN), ALICE);
    const after = Math.ceil(Date.now() / 1000);
    await new Promise((r) => setTimeout(r, 1100));
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const start = await authorizationRequest(config, WEB_APP.redirect, { prompt: 'none', max_age: '600' });
    const step = await browser.follow(start.url.href);
    expect(step.left?.searchParams.get('error')).toBeNull();
    const tokens = await redeem(config, start, step.left!);
    expect(tokens.claims()!.auth_time).toBeGreaterThanOrEqual(before);
    expect(tokens.claims()!.auth_time).toBeLessThanOrEqual(after);
    const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(info.email).toBe(ALICE.login);
  });

  it('sign-out through WS-Fed ends OIDC single sign-on: prompt=none then gets login_required', async () => {
    const app = await withWsfed();
    const browser = new Browser(app.baseUrl);
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    await signInWithCode(app, browser, config, WEB_APP.redirect);
    const wsfedAgain = await browser.follow(WSFED_SIGNIN);
    expect(wsfedAgain.html).toContain(`action="${WSFED_APP.replyUrl}"`); // SSO the other way round too
    await browser.follow('/adfs/ls/?wa=wsignout1.0');
    const start = await authorizationRequest(config, WEB_APP.redirect, { prompt: 'none' });
    const step = await browser.follow(start.url.href);
    expect(step.left?.searchParams.get('error')).toBe('login_required');
    // Without prompt=none: the form.
    const interactive = await browser.follow((await authorizationRequest(config, WEB_APP.redirect)).url.href);
    expect(interactive.html).toContain('name="Password"');
  });

  it('a signed-in authorization is one request (the code at once, the SSO check each time); a sign-out elsewhere brings back the form', async () => {
    const app = await withWsfed();
    const browser = new Browser(app.baseUrl);
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    await submitLogin(browser, await browser.follow(WSFED_SIGNIN), ALICE);
    /** One request to the authorization endpoint, answered with the code at the redirect URI. */
    const inOneRequest = async () => {
      const start = await authorizationRequest(config, WEB_APP.redirect);
      const res = await browser.request(start.url.href);
      const location = new URL(res.headers.get('location') ?? '', app.baseUrl);
      expect(res.status).toBe(303);
      expect(location.origin + location.pathname).toBe(WEB_APP.redirect);
      return redeem(config, start, location);
    };
    // The first takes fedgate's session (WS-Fed's sign-in), the next ones the provider's own.
    const first = await inOneRequest();
    const again = await inOneRequest();
    await inOneRequest();
    expect(again.claims()!.sub).toBe(first.claims()!.sub);
    expect(app.t.audits('signin.success')).toHaveLength(1);
    expect(app.t.audits('sso.reused').filter((e) => e.application === WEB_APP.client_id)).toHaveLength(3);

    await browser.follow('/adfs/ls/?wa=wsignout1.0');
    const start = await authorizationRequest(config, WEB_APP.redirect);
    const res = await browser.request(start.url.href);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/oidc\/interaction\//);
    const form = await browser.follow(res.headers.get('location')!);
    expect(form.html).toContain('name="Password"');
    const back = await submitLogin(browser, form, ALICE);
    await redeem(config, start, back.left!);
    expect(app.t.audits('signin.success')).toHaveLength(2);
  });

  it('RP-initiated logout: the sign-out page, then back to the registered post-logout URI; fedgate\'s session (WS-Fed too) is over', async () => {
    const app = await withWsfed();
    const browser = new Browser(app.baseUrl);
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const { tokens } = await signInWithCode(app, browser, config, WEB_APP.redirect);
    const logoutUrl = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: WEB_APP.logout, state: 'bye' });
    const page = await browser.follow(logoutUrl.href);
    expect(page.page?.status).toBe(200);
    expect(page.html).toContain('id="signout"');
    expect(page.page?.headers.get('cache-control')).toBe('no-store');
    const action = /<form method="post" action="([^"]+)" id="op.logoutForm">/.exec(page.html)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.html)![1]!;
    const done = await browser.follow(action.replace(/&amp;/g, '&'), { form: { xsrf, logout: 'yes' } });
    expect(done.left?.href).toBe(`${WEB_APP.logout}?state=bye`);
    expect(app.t.audits('signout').map((e) => e.application)).toEqual([WEB_APP.client_id]);
    // Every protocol asks again.
    expect((await browser.follow(WSFED_SIGNIN)).html).toContain('name="Password"');
    const silent = await browser.follow((await authorizationRequest(config, WEB_APP.redirect, { prompt: 'none' })).url.href);
    expect(silent.left?.searchParams.get('error')).toBe('login_required');
  });

  // The provider's logout of the previous account revokes its grant: the interaction being resumed
  // must survive that (the state adapter revokes only a grant's tokens).
  it('another person signing in at fedgate is not answered with the first one\'s OIDC session', async () => {
    const app = await withWsfed();
    const browser = new Browser(app.baseUrl);
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const alice = await signInWithCode(app, browser, config, WEB_APP.redirect);
    await browser.follow('/adfs/ls/?wa=wsignout1.0');
    const wsfed = await browser.follow(WSFED_SIGNIN);
    await submitLogin(browser, wsfed, BOB);
    const start = await authorizationRequest(config, WEB_APP.redirect);
    const step = await browser.follow(start.url.href);
    expect(step.left, step.html.slice(0, 800)).toBeDefined();
    const tokens = await redeem(config, start, step.left!);
    expect(tokens.claims()!.sub).not.toBe(alice.tokens.claims()!.sub);
    const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(info.email).toBe(BOB.login);
  });

  it('after the sign-in form, a page that moves on by itself (no redirect chain held to the form\'s CSP) returns to the application', async () => {
    const app = await startOidcApp();
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const browser = new Browser(app.baseUrl);
    const start = await authorizationRequest(config, WEB_APP.redirect);
    const form = await browser.follow(start.url.href);
    const posted = await browser.request('/login', { form: { pending: /name="pending" value="([^"]+)"/.exec(form.html)![1]!, csrf: /name="csrf" value="([^"]+)"/.exec(form.html)![1]!, UserName: ALICE.login, Password: ALICE.password } });
    expect(posted.status).toBe(303);
    const resumed = await browser.request(posted.headers.get('location')!);
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get('refresh')).toMatch(new RegExp(`^0; url=${app.issuer}/auth/`));
    expect(await resumed.text()).toContain('id="continue"');
  });

  it('response_mode=form_post: the response page may post to the registered redirect URI (CSP form-action), and follow its redirects (its scheme), nothing else', async () => {
    const app = await startOidcApp();
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const browser = new Browser(app.baseUrl);
    await signInWithCode(app, browser, config, WEB_APP.redirect);
    const start = await authorizationRequest(config, WEB_APP.redirect, { response_mode: 'form_post' });
    const step = await browser.follow(start.url.href);
    expect(step.left?.href).toBe(WEB_APP.redirect);
    expect(step.posted?.state).toBe(start.state);
    const csp = step.page!.headers.get('content-security-policy')!;
    expect(csp).toMatch(new RegExp(`form-action 'self' ${WEB_APP.redirect} https:(;|$)`));
    expect(csp).toMatch(/script-src 'self' 'sha256-/);
  });

  it('RP-initiated logout: the sign-out page\'s CSP lets its form end at the post-logout URI; a logout without a provider session does not end fedgate\'s', async () => {
    const app = await withWsfed();
    const browser = new Browser(app.baseUrl);
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const { tokens } = await signInWithCode(app, browser, config, WEB_APP.redirect);
    const page = await browser.follow(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: WEB_APP.logout }).href);
    expect(page.page!.headers.get('content-security-policy')).toMatch(new RegExp(`form-action 'self' ${WEB_APP.logout} https:(;|$)`));
    // Another browser, signed in through WS-Fed only, sent to the end-session endpoint by some page.
    const other = new Browser(app.baseUrl);
    await submitLogin(other, await other.follow(WSFED_SIGNIN), ALICE);
    await other.follow(`${app.issuer}/session/end`);
    expect(app.t.audits('signout')).toHaveLength(0);
    expect((await other.follow(WSFED_SIGNIN)).html).toContain(`action="${WSFED_APP.replyUrl}"`);
  });

  it('RP-initiated logout without a post-logout URI ends at fedgate\'s signed-out page', async () => {
    const app = await startOidcApp();
    const browser = new Browser(app.baseUrl);
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    await signInWithCode(app, browser, config, WEB_APP.redirect);
    const page = await browser.follow(client.buildEndSessionUrl(config, {}).href);
    const action = /<form method="post" action="([^"]+)" id="op.logoutForm">/.exec(page.html)![1]!;
    const done = await browser.follow(action, { form: { xsrf: /name="xsrf" value="([^"]+)"/.exec(page.html)![1]!, logout: 'yes' } });
    expect(done.page?.status).toBe(200);
    expect(done.html).toContain('role="status"');
    expect(done.html).toContain('/static/fedgate.css');
    expect(app.t.audits('signout')).toHaveLength(1);
  });

  it('an unregistered redirect_uri gets fedgate\'s error page, never a redirect', async () => {
    const app = await startOidcApp();
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const start = await authorizationRequest(config, 'https://evil.test/callback');
    const step = await new Browser(app.baseUrl).follow(start.url.href);
    expect(step.left).toBeUndefined();
    expect(step.page?.status).toBe(400);
    expect(step.html).toContain('has not registered');
    expect(step.html).toContain('/static/fedgate.css');
    expect(step.html).not.toContain('evil.test');
  });

  it('an unknown client_id gets fedgate\'s error page', async () => {
    const app = await startOidcApp();
    const res = await new Browser(app.baseUrl).follow(`/oidc/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://evil.test/cb')}`);
    expect(res.left).toBeUndefined();
    expect(res.page?.status).toBe(400);
    expect(res.html).toContain('not known to this sign-in service');
  });

  it('consent: a third-party client shows the consent page (escaped, CSRF-protected); allow gives a code, deny access_denied', async () => {
    const app = await startOidcApp();
    const config = await discover(app, THIRD_PARTY.client_id, THIRD_PARTY.secret);
    const browser = new Browser(app.baseUrl);
    const start = await authorizationRequest(config, THIRD_PARTY.redirect);
    const form = await submitLogin(browser, await browser.follow(start.url.href), ALICE);
    expect(form.html).toContain('Allow Partner &lt;App&gt; access?');
    expect(form.html).toContain('<li>profile</li>');
    const action = /<form method="post" action="([^"]+)">/.exec(form.html)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.html)![1]!;
    const forged = await browser.follow(action, { form: { csrf: 'x'.repeat(43), decision: 'allow' } });
    expect(forged.page?.status).toBe(403);
    const allowed = await browser.follow(action, { form: { csrf, decision: 'allow' } });
    const tokens = await redeem(config, start, allowed.left!);
    expect(tokens.claims()!.aud).toBe(THIRD_PARTY.client_id);
    // Asked once: the next request for the same scopes goes straight through.
    const again = await authorizationRequest(config, THIRD_PARTY.redirect);
    expect((await browser.follow(again.url.href)).left?.searchParams.get('code')).toBeTruthy();
    // A new scope asks again; deny answers access_denied.
    const more = await authorizationRequest(config, THIRD_PARTY.redirect, { scope: 'openid offline_access', prompt: 'consent' });
    const page = await browser.follow(more.url.href);
    const denyAction = /<form method="post" action="([^"]+)">/.exec(page.html)![1]!;
    const denied = await browser.follow(denyAction, { form: { csrf, decision: 'deny' } });
    expect(denied.left?.searchParams.get('error')).toBe('access_denied');
  });
});
