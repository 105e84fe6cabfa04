import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slapdDirectoryConfig } from '../harness/directories.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { curlNegotiate, kinit, mitKdc, negotiateToken, ntlmToken } from '../harness/kerberos.js';
import { USERS } from '../harness/users.js';
import { listen } from '../e2e/browser.js';
import { formOf, isSignInForm, location } from '../http/sign-in-flow.js';
import { authorizeRedirect, expectAccepted, pathOf, samlSp, unsignedSpClient } from '../protocols/saml/sp-client.js';
import { validateLoginSrfPost } from '../entra/login-srf.js';
import { readAutopost } from '../protocols/wsfed/autopost.js';
import { authorizationRequest, Browser, discover, OIDC_CLIENTS, redeem, WEB_APP } from '../protocols/oidc/oidc-harness.js';

/**
 * Seamless Kerberos sign-in against a real MIT KDC (realm KRB.TEST), with the users in a real
 * slapd: curl --negotiate and a Node GSSAPI client play the domain-joined browser.
 */
const EDGE_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0';
const kdc = mitKdc();

async function kerberosApp(kerberos: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<TestApp> {
  // The acceptor in this process reads the KDC's krb5.conf (realm, ignore_acceptor_hostname).
  process.env.KRB5_CONFIG = kdc.krb5Config;
  return startTestApp({
    federation: { internalNetworks: ['127.0.0.0/8', '::1/128'] },
    authn: { kerberos: { keytab: kdc.keytab, servicePrincipal: 'HTTP/localhost', realms: [kdc.realm], ...kerberos } },
    relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains: ['example.test'] }],
    ...extra,
  }, { directoryConfig: slapdDirectoryConfig() });
}

const entraStart = `/adfs/ls/?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: 'urn:federation:MicrosoftOnline', wctx: 'estsredirect=2' })}`;

describe('Kerberos (SPNEGO) sign-in with an MIT KDC', () => {
  let aliceCache: string;
  beforeAll(async () => { aliceCache = await kinit(kdc.krb5Config, `alice@${kdc.realm}`, USERS.alice.password); });

  it('an eligible browser gets 401 Negotiate at the application\'s own request, with a body that moves on to the form at once, and only once', async () => {
    const t = await kerberosApp();
    const agent = request.agent(t.app);
    // As AD FS: the challenge is the answer to the request itself, no hop to /login first.
    const challenge = await agent.get('/signin').set('User-Agent', EDGE_ON_WINDOWS);
    expect(challenge.status).toBe(401);
    expect(challenge.headers['www-authenticate']).toBe('Negotiate');
    expect(challenge.headers.refresh).toMatch(/^0; url=\/login\?pending=.*&negotiate=no$/);
    expect(challenge.text).toContain('id="to-form"');
    // No ticket: the browser follows the body; and the same pending sign-in never challenges twice.
    const formUrl = String(challenge.headers.refresh).replace(/^0; url=/, '');
    const followed = await agent.get(formUrl).set('User-Agent', EDGE_ON_WINDOWS);
    expect(followed.status).toBe(200);
    expect(isSignInForm(followed)).toBe(true);
    const again = await agent.get(formUrl.replace('&negotiate=no', '')).set('User-Agent', EDGE_ON_WINDOWS);
    expect(again.status).toBe(200);
    expect(isSignInForm(again)).toBe(true);
  });

  it('a ticket signs alice in with no form: Windows method, mutual authentication, the portal answered at once', async () => {
    const t = await kerberosApp();
    const agent = request.agent(t.app);
    const challenge = await agent.get('/signin').set('User-Agent', EDGE_ON_WINDOWS);
    expect(challenge.status).toBe(401);
    // The browser repeats the request with its ticket: answered with the portal's own answer, no hop through /login or /signin/resume.
    const token = await negotiateToken({ krb5Config: kdc.krb5Config, ccache: aliceCache });
    const answered = await agent.get('/signin').set('User-Agent', EDGE_ON_WINDOWS).set('Authorization', token.header);
    expect(answered.status).toBe(303);
    expect(answered.headers.location).toBe('/');
    await token.verifyServerToken(String(answered.headers['www-authenticate'])); // the client checks it talked to the real service
    const home = await agent.get('/');
    expect(home.text).toContain('alice@example.test');
    expect(home.text).toContain('http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/windows');
    expect(t.audits('signin.success')).toEqual([expect.objectContaining({ method: 'kerberos', user: 'alice@example.test' })]);
  });

  it('the request repeated with the ticket resumes the sign-in its challenge started: one pending sign-in, one start counted', async () => {
    const t = await kerberosApp();
    /** Sign-ins started from 127.0.0.1 (counted per minute: every minute the block below spans). */
    const startsDuring = async (block: () => Promise<void>) => {
      const minute = () => Math.floor(Date.now() / 60_000);
      const first = minute();
      await block();
      let starts = 0;
      for (let m = first; m <= minute(); m++) {
        starts += (await t.services.store.get<number>(`rl:start:127.0.0.1:${m}`)) ?? 0;
        await t.services.store.delete(`rl:start:127.0.0.1:${m}`);
      }
      return starts;
    };
    for (const path of ['/signin', entraStart]) {
      const agent = request.agent(t.app);
      let challengedPending = '';
      expect(await startsDuring(async () => {
        const challenge = await agent.get(path).set('User-Agent', EDGE_ON_WINDOWS);
        expect(challenge.status).toBe(401);
        challengedPending = /pending=([^&]+)/.exec(String(challenge.headers.refresh))![1]!;
        const token = await negotiateToken({ krb5Config: kdc.krb5Config, ccache: aliceCache });
        const answered = await agent.get(path).set('User-Agent', EDGE_ON_WINDOWS).set('Authorization', token.header);
        expect(answered.status).toBe(path === '/signin' ? 303 : 200);
        if (path === entraStart) expect(readAutopost(answered.text).fields.wresult).toContain('authenticationmethod/windows');
      })).toBe(1);
      // The challenge's pending sign-in is the one the ticket used up: its form link says so.
      const stale = await agent.get(`/login?pending=${challengedPending}&negotiate=no`).set('User-Agent', EDGE_ON_WINDOWS);
      expect(stale.status).toBe(400);
      expect(stale.text).toContain('already used');
    }
    // Without the challenge's cookie the repeat is a sign-in of its own.
    expect(await startsDuring(async () => {
      expect((await request(t.app).get('/signin').set('User-Agent', EDGE_ON_WINDOWS)).status).toBe(401);
      const token = await negotiateToken({ krb5Config: kdc.krb5Config, ccache: aliceCache });
      expect((await request(t.app).get('/signin').set('User-Agent', EDGE_ON_WINDOWS).set('Authorization', token.header)).status).toBe(303);
    })).toBe(2);
    // A cookie from the challenge of another request is not this request's sign-in: a start of its own.
    const agent = request.agent(t.app);
    expect(await startsDuring(async () => {
      expect((await agent.get('/signin').set('User-Agent', EDGE_ON_WINDOWS)).status).toBe(401);
      const token = await negotiateToken({ krb5Config: kdc.krb5Config, ccache: aliceCache });
      const answered = await agent.get(entraStart).set('User-Agent', EDGE_ON_WINDOWS).set('Authorization', token.header);
      expect(answered.status).toBe(200);
      expect(readAutopost(answered.text).fields.wctx).toBe('estsredirect=2'); // Entra's sign-in, not the portal's
    })).toBe(2);
  });

  it('over https the challenge\'s cookie is __Host- prefixed, and only that name resumes its sign-in (a sibling sub-domain cannot plant it)', async () => {
    const t = await kerberosApp({}, { server: { baseUrl: 'https://localhost' } });
    const challenge = await request(t.app).get('/signin').set('User-Agent', EDGE_ON_WINDOWS);
    expect(challenge.status).toBe(401);
    const setCookie = ([] as string[]).concat(challenge.headers['set-cookie'] ?? []).find((c) => c.includes('fedgate_negotiate='));
    expect(setCookie).toMatch(/^__Host-fedgate_negotiate=[A-Za-z0-9_-]+; .*Secure/);
    const pendingId = /^__Host-fedgate_negotiate=([^;]+)/.exec(setCookie!)![1]!;
    const repeat = async (cookie: string) => {
      const token = await negotiateToken({ krb5Config: kdc.krb5Config, ccache: aliceCache });
      return request(t.app).get('/signin').set('User-Agent', EDGE_ON_WINDOWS).set('Authorization', token.header).set('Cookie', cookie);
    };
    const formOfChallenge = () => request(t.app).get(`/login?pending=${pendingId}&negotiate=no`).set('User-Agent', EDGE_ON_WINDOWS);
    // The unprefixed name (what another sub-domain could set) is ignored: the challenged sign-in is untouched.
    expect((await repeat(`fedgate_negotiate=${pendingId}`)).status).toBe(303);
    expect((await formOfChallenge()).status).toBe(200);
    // The real cookie resumes it: used up.
    expect((await repeat(`__Host-fedgate_negotiate=${pendingId}`)).status).toBe(303);
    const stale = await formOfChallenge();
    expect(stale.status).toBe(400);
    expect(stale.text).toContain('already used');
  });

  it('two tabs repeating the challenged request with their tickets at once both sign in: the challenge\'s sign-in is resumed once, the other starts its own', async () => {
    const t = await kerberosApp();
    const agent = request.agent(t.app);
    expect((await agent.get(entraStart).set('User-Agent', EDGE_ON_WINDOWS)).status).toBe(401);
    const tokens = await Promise.all([1, 2].map(() => negotiateToken({ krb5Config: kdc.krb5Config, ccache: aliceCache })));
    const answers = await Promise.all(tokens.map((token) => agent.get(entraStart).set('User-Agent', EDGE_ON_WINDOWS).set('Authorization', token.header)));
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    for (const answer of answers) expect(readAutopost(answer.text).fields.wresult).toContain('authenticationmethod/windows');
    expect(t.audits('signin.success')).toHaveLength(2);
  });

  it('an OpenID Connect code flow: the interaction answers 401 Negotiate, the repeated request with the ticket signs alice in, openid-client gets an ID token that says Windows', async () => {
    // Over real HTTP: the issuer openid-client discovers is the address the app listens on.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const t = await kerberosApp({}, { server: { baseUrl }, relyingParties: OIDC_CLIENTS.filter((c) => c.identifier === WEB_APP.client_id) });
      server.on('request', t.app);
      const config = await discover({ t, baseUrl, issuer: `${baseUrl}/oidc` }, WEB_APP.client_id, WEB_APP.secret);
      const browser = new Browser(baseUrl, EDGE_ON_WINDOWS);
      const start = await authorizationRequest(config, WEB_APP.redirect);
      const challenged = await browser.follow(start.url.href);
      expect(challenged.page?.status).toBe(401);
      expect(challenged.page?.headers.get('www-authenticate')).toBe('Negotiate');
      expect(challenged.url).toContain('/oidc/interaction/');
      const token = await negotiateToken({ krb5Config: kdc.krb5Config, ccache: aliceCache });
      const signedIn = await browser.follow(challenged.url, { headers: { authorization: token.header } });
      expect(signedIn.left?.href.startsWith(`${WEB_APP.redirect}?`)).toBe(true);
      const tokens = await redeem(config, start, signedIn.left!);
      expect(tokens.claims()?.amr).toEqual(['wia']);
      expect(t.audits('signin.success')).toEqual([expect.objectContaining({ method: 'kerberos', user: 'alice@example.test', application: WEB_APP.client_id })]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('the whole Entra WS-Fed flow signed in by curl --negotiate: a token that says Windows authentication', async () => {
    const t = await kerberosApp();
    const { server, baseUrl } = await listen(t.app);
    try {
      const url = baseUrl.replace('127.0.0.1', 'localhost') + entraStart;
      const res = await curlNegotiate(url, { krb5Config: kdc.krb5Config, ccache: aliceCache, userAgent: EDGE_ON_WINDOWS, followRedirects: true, challengeFirst: true, cookieJar: join(mkdtempSync(join(tmpdir(), 'fedgate-curl-')), 'cookies') });
      expect(res.statuses).toContain(401); // asked, as a browser is
      expect(res.redirects).toEqual([]); // Entra's request, repeated with the ticket, is answered with the token page
      expect(res.status).toBe(200);
      const form = readAutopost(res.body);
      const verdict = validateLoginSrfPost(form.fields, {
        domains: [{ name: 'example.test', issuerUri: 'http://example.test/adfs/services/trust/', signingCertificate: t.services.keys.current.certificateBase64 }],
        users: [{ upn: USERS.alice.upn, immutableId: '1MOyofbliUeavN7wEjRWeA==' }],
      }, { wctx: 'estsredirect=2', sentAt: new Date() });
      expect(verdict.errors).toEqual([]);
      expect(verdict.claims?.authenticationMethod).toBe('http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/windows');
      expect(verdict.claims?.mfa).toBe(false);
    } finally {
      server.close();
      await t.services.directory.close();
    }
  });

  it('a SAML AuthnRequest (its ID answered once) is challenged at /login, so the ticket does not repeat it: the SP gets its Response', async () => {
    const SP = samlSp('sp-kerberos');
    const t = await kerberosApp({}, { relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains: ['example.test'] }, SP.config] });
    const agent = request.agent(t.app);
    // No RequestedAuthnContext: node-saml's default asks for PasswordProtectedTransport, which only the form gives.
    const sp = unsignedSpClient(t, SP, { disableRequestedAuthnContext: true });
    const started = await agent.get(pathOf(await authorizeRedirect(sp, 'krb'))).set('User-Agent', EDGE_ON_WINDOWS);
    expect(started.status).toBe(303);
    expect(location(started)).toMatch(/^\/login\?pending=/);
    const challenge = await agent.get(location(started)).set('User-Agent', EDGE_ON_WINDOWS);
    expect(challenge.status).toBe(401);
    const token = await negotiateToken({ krb5Config: kdc.krb5Config, ccache: aliceCache });
    const answered = await agent.get(location(started)).set('User-Agent', EDGE_ON_WINDOWS).set('Authorization', token.header);
    expect(answered.status, answered.text.slice(0, 300)).toBe(200);
    const profile = await expectAccepted(t, sp, readAutopost(answered.text));
    expect(profile.nameID).toBeTruthy();
    expect(t.audits('signin.success')).toEqual([expect.objectContaining({ method: 'kerberos' })]);
    await t.services.directory.close();
  });

  it('a browser without a ticket lands on the form at once (curl without credentials follows the 401 body)', async () => {
    const t = await kerberosApp();
    const { server, baseUrl } = await listen(t.app);
    try {
      const res = await curlNegotiate(baseUrl.replace('127.0.0.1', 'localhost') + entraStart, { krb5Config: kdc.krb5Config, userAgent: EDGE_ON_WINDOWS, followRedirects: true, challengeFirst: true });
      expect(res.status).toBe(401);
      const formUrl = res.headers.refresh!.replace(/^0; url=/, '');
      const form = await fetch(baseUrl + formUrl, { headers: { cookie: '' } });
      expect(form.status).toBe(200);
      expect(await form.text()).toContain('name="Password"');
    } finally {
      server.close();
      await t.services.directory.close();
    }
  });

  it.each([
    ['an external client', {}, { federation: { internalNetworks: ['10.0.0.0/8'] } }, EDGE_ON_WINDOWS, '/signin'],
    ['an unknown user agent', {}, {}, 'curl/7.88.1', '/signin'],
    ['a request that demands a password (wauth=password)', {}, {}, EDGE_ON_WINDOWS,
      `/adfs/ls/?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: 'urn:federation:MicrosoftOnline', wauth: 'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password' })}`],
    ['a fresh sign-in (prompt=login)', {}, {}, EDGE_ON_WINDOWS, `/adfs/ls/?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: 'urn:federation:MicrosoftOnline', prompt: 'login' })}`],
    ['Kerberos switched off', { enabled: false }, {}, EDGE_ON_WINDOWS, '/signin'],
  ])('is not offered to %s: the form at once', async (_name, kerberos, extra, userAgent, start) => {
    const t = await kerberosApp(kerberos, extra);
    const agent = request.agent(t.app);
    // The form is the answer to the start itself: no redirect to /login, no 401.
    const page = await agent.get(start).set('User-Agent', userAgent);
    expect(page.status).toBe(200);
    expect(isSignInForm(page)).toBe(true);
    expect(page.headers['www-authenticate']).toBeUndefined();
    await t.services.directory.close();
  });

  it.each([
    ['an NTLM token', () => `Negotiate ${ntlmToken()}`, 'ntlm'],
    ['garbage', () => 'Negotiate !!!not-base64!!!', 'malformed'],
    ['a token that is no Kerberos ticket', () => `Negotiate ${Buffer.from('not a kerberos token').toString('base64')}`, 'rejected'],
  ])('%s gets the form (200, no second 401: no browser password dialog) and a log line', async (_name, header, reason) => {
    const t = await kerberosApp();
    const agent = request.agent(t.app);
    const res = await agent.get('/signin').set('User-Agent', EDGE_ON_WINDOWS).set('Authorization', header());
    expect(res.status).toBe(200);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.text).toContain('name="Password"');
    expect(t.logs().some((l) => l.msg === 'kerberos: no sign-in from this Negotiate token; showing the form' && l.reason === reason)).toBe(true);
    await t.services.directory.close();
  });

  it('a ticket brought to /login for a request that demands the password (or from a browser Kerberos is not offered to) is ignored: the form', async () => {
    const t = await kerberosApp();
    const agent = request.agent(t.app);
    const token = await negotiateToken({ krb5Config: kdc.krb5Config, ccache: aliceCache });
    const demandsPassword = `/adfs/ls/?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: 'urn:federation:MicrosoftOnline', wauth: 'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password' })}`;
    for (const [start, userAgent] of [[demandsPassword, EDGE_ON_WINDOWS], ['/signin', 'curl/7.88.1']] as const) {
      const { pending } = await formOf(agent, await agent.get(start).set('User-Agent', userAgent));
      const res = await agent.get(`/login?pending=${encodeURIComponent(pending)}`).set('User-Agent', userAgent).set('Authorization', token.header);
      expect(res.status, start).toBe(200);
      expect(isSignInForm(res), start).toBe(true);
      expect(res.text).not.toContain('wresult');
    }
    expect(t.audits('signin.success')).toHaveLength(0);
    await t.services.directory.close();
  });

  it('a ticket of a realm that is not accepted gets the form', async () => {
    const t = await kerberosApp({ realms: ['OTHER.TEST'] });
    const agent = request.agent(t.app);
    const token = await negotiateToken({ krb5Config: kdc.krb5Config, ccache: aliceCache });
    const res = await agent.get('/signin').set('User-Agent', EDGE_ON_WINDOWS).set('Authorization', token.header);
    expect(res.status).toBe(200);
    expect(isSignInForm(res)).toBe(true);
    expect(t.audits('signin.success')).toHaveLength(0);
    await t.services.directory.close();
  });

  it('a keytab without the service principal: Kerberos reported unavailable on /readyz, everyone gets the form', async () => {
    const keytab = await kdc.addService(`HTTP/other.test@${kdc.realm}`);
    const t = await kerberosApp({ keytab });
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(200); // still ready: the form works
    expect(ready.body.checks.kerberos.ok).toBe(false);
    expect(ready.body.checks.kerberos.detail).toMatch(/keytab/);
    const agent = request.agent(t.app);
    // Not offered while unavailable: /signin answers with the form itself.
    const page = await agent.get('/signin').set('User-Agent', EDGE_ON_WINDOWS);
    expect(page.status).toBe(200);
    expect(isSignInForm(page)).toBe(true);
    expect(page.headers['www-authenticate']).toBeUndefined();
    expect(t.logs().some((l) => l.msg === 'kerberos: unavailable; everyone gets the password form')).toBe(true);
    await t.services.directory.close();
  });

  it('with a good keytab /readyz says Kerberos is ready', async () => {
    const t = await kerberosApp();
    const ready = await request(t.app).get('/readyz');
    expect(ready.body.checks.kerberos).toEqual({ ok: true, detail: expect.stringContaining('HTTP/localhost') });
    await t.services.directory.close();
  });
});

afterAll(() => { delete process.env.KRB5_CONFIG; });
