import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../harness/app.js';
import { formOf, isSignInForm, openLoginForm, type Agent } from '../../http/sign-in-flow.js';
import { validateLoginSrfPost, type EntraTenant } from '../../entra/login-srf.js';
import { assertionOf, readAutopost, xmlsec1Verifies, type PostedForm } from './autopost.js';
import { APP_A, APP_B, FABRIKAM_ISSUER, PASSWORD, TENANT_RELYING_PARTIES, TENANT_USERS, immutableIdOf, writeTenantUsers } from './tenant.js';

/**
 * WS-Federation passive sign-in as Entra ID drives it (entra-federation.md §1, §6, §11), through
 * the real app over HTTP; every token checked by the Entra stand-in and by xmlsec1.
 */
const ENTRA_WCTX = 'estsredirect=2&estsrequest=rQQIARAAhZE9aBNhGMe_99HaBm1Dh-Li8HDqIOQu9ybpaeKHaUlMe7m0aZKaZDnePo_r5EvEkurg0Dg7OnRwEMRBnMRNh-Ko4GAHp4Kjo6N0v_-kJwPDwhtcVn1L_Pq6';

let usersFile: string;
beforeAll(async () => { usersFile = await writeTenantUsers(); });

async function tenantApp(extra: Record<string, unknown> = {}): Promise<TestApp> {
  return startTestApp({
    // http: supertest's cookie jar, like a browser, keeps __Host-/Secure cookies for https only.
    server: { baseUrl: 'http://sts.contoso.test' },
    directory: { type: 'file', path: usersFile },
    relyingParties: TENANT_RELYING_PARTIES,
    ...extra,
  });
}

function entraTenant(t: TestApp): EntraTenant {
  return {
    domains: [
      { name: 'contoso.test', issuerUri: 'http://contoso.test/adfs/services/trust/', signingCertificate: t.services.keys.current.certificateBase64 },
      { name: 'fabrikam.test', issuerUri: FABRIKAM_ISSUER, signingCertificate: t.services.keys.current.certificateBase64 },
    ],
    users: Object.values(TENANT_USERS).map((u) => ({ upn: u.login, immutableId: immutableIdOf(u.guid) })),
  };
}

/** The redirect Entra sends (S11), for one user. */
function entraRedirect(user: string, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({ login_hint: user, 'client-request-id': '83a18d4d-0b0e-4c9b-9b3f-1d1a2b3c4d5e', username: user,
    wa: 'wsignin1.0', wtrealm: 'urn:federation:MicrosoftOnline', wctx: ENTRA_WCTX, ...extra });
  return `/adfs/ls/?${q.toString()}`;
}

/** Follows a wsignin1.0 through the sign-in form (with the secure cookies carried by hand). */
async function signInThrough(t: TestApp, agent: Agent, start: string, login: string, password = PASSWORD): Promise<{ form: PostedForm; html: string; status: number }> {
  const started = await agent.get(start);
  expect(started.status, started.text).toBe(200);
  if (!isSignInForm(started)) return { form: readAutopost(started.text), html: started.text, status: 200 };
  // Entra's redirect is answered with the form, as AD FS answers it; the POST with the token page.
  const { pending, csrf, form } = await formOf(agent, started);
  if (start.includes('username=')) expect(form.text).toContain(`value="${login}"`); // pre-filled from username / login_hint
  const posted = await agent.post('/login').type('form').send({ pending, csrf, UserName: login, Password: password });
  if (posted.status !== 200 || isSignInForm(posted)) return { form: { action: '', fields: {} }, html: posted.text, status: posted.status };
  return { form: readAutopost(posted.text), html: posted.text, status: 200 };
}

describe('WS-Fed sign-in for Entra ID', () => {
  it('a user redirected as Entra redirects signs in and posts a token the Entra stand-in and xmlsec1 accept', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    const sentAt = new Date();
    const { form } = await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
    expect(form.action).toBe('https://login.microsoftonline.com/login.srf');
    expect(Object.keys(form.fields)).toEqual(['wa', 'wresult', 'wctx']);
    expect(form.fields.wctx).toBe(ENTRA_WCTX);
    const verdict = validateLoginSrfPost(form.fields, entraTenant(t), { wctx: ENTRA_WCTX, sentAt });
    expect(verdict.errors).toEqual([]);
    expect(verdict.accepted).toBe(true);
    expect(verdict.user).toEqual({ upn: 'alice@contoso.test', immutableId: '1MOyofbliUeavN7wEjRWeA==' });
    expect(verdict.claims?.issuer).toBe('http://contoso.test/adfs/services/trust/');
    expect(verdict.claims?.mfa).toBe(false);
    expect(xmlsec1Verifies(form.fields.wresult!, t.services.keys.current)).toBe(true);
    expect(xmlsec1Verifies(assertionOf(form.fields.wresult!), t.services.keys.current)).toBe(true);
    // A token is never logged.
    expect(t.logText()).not.toContain('AssertionID=');
    expect(t.logs().some((l) => l.clientRequestId === '83a18d4d-0b0e-4c9b-9b3f-1d1a2b3c4d5e')).toBe(true);
  });

  it('single sign-on: the next Entra redirect is answered at once, with the first sign-in instant', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    const first = await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
    const again = await agent.get(entraRedirect(TENANT_USERS.alice.login));
    expect(again.status).toBe(200);
    const form = readAutopost(again.text);
    const v1 = validateLoginSrfPost(first.form.fields, entraTenant(t), { wctx: ENTRA_WCTX, sentAt: new Date() });
    const v2 = validateLoginSrfPost(form.fields, entraTenant(t), { wctx: ENTRA_WCTX, sentAt: new Date() });
    expect(v2.accepted).toBe(true);
    expect(v2.claims?.authenticationInstant).toBe(v1.claims?.authenticationInstant);
  });

  it.each([['wfresh=0', { wfresh: '0' }], ['prompt=login', { prompt: 'login' }],
    ['wfresh=0 and wauth=password', { wfresh: '0', wauth: 'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password' }]])(
    '%s forces a fresh sign-in even with a session, and the token says when', async (_name, extra) => {
      const t = await tenantApp();
      const agent = request.agent(t.app);
      await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
      const asked = new Date();
      const fresh = await agent.get(entraRedirect(TENANT_USERS.alice.login, extra));
      expect(isSignInForm(fresh)).toBe(true);
      const { form } = await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login, extra), TENANT_USERS.alice.login);
      const verdict = validateLoginSrfPost(form.fields, entraTenant(t), { wctx: ENTRA_WCTX, sentAt: asked, expectFreshAuthAfter: new Date(asked.getTime() - 1000) });
      expect(verdict.errors).toEqual([]);
    });

  it('wauth=password is satisfied by a password session without asking again', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
    const res = await agent.get(entraRedirect(TENANT_USERS.alice.login, { wauth: 'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password' }));
    expect(res.status).toBe(200);
  });

  it('a request for MFA gets a clear refusal and no token: MFA is never claimed when not done', async () => {
    const t = await tenantApp();
    const res = await request(t.app).get(entraRedirect(TENANT_USERS.alice.login, { wauth: 'http://schemas.microsoft.com/claims/multipleauthn' }));
    expect(res.status).toBe(400);
    expect(res.text).toContain('multi-factor authentication');
    expect(res.text).not.toContain('wresult');
  });

  it('a sub-domain user is issued with the parent domain\'s issuer; another federated domain with its own', async () => {
    const t = await tenantApp();
    const sam = await signInThrough(t, request.agent(t.app), entraRedirect(TENANT_USERS.sam.login), TENANT_USERS.sam.login);
    const v1 = validateLoginSrfPost(sam.form.fields, entraTenant(t), { wctx: ENTRA_WCTX, sentAt: new Date() });
    expect(v1.errors).toEqual([]);
    expect(v1.claims?.issuer).toBe('http://contoso.test/adfs/services/trust/');
    const fred = await signInThrough(t, request.agent(t.app), entraRedirect(TENANT_USERS.fred.login), TENANT_USERS.fred.login);
    const v2 = validateLoginSrfPost(fred.form.fields, entraTenant(t), { wctx: ENTRA_WCTX, sentAt: new Date() });
    expect(v2.errors).toEqual([]);
    expect(v2.claims?.issuer).toBe(FABRIKAM_ISSUER);
  });

  it('a user outside the federated domains gets a clear error page and no token', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    const { pending, csrf } = await openLoginForm(agent, entraRedirect(TENANT_USERS.olga.login));
    const posted = await agent.post('/login').type('form').send({ pending, csrf, UserName: TENANT_USERS.olga.login, Password: PASSWORD });
    expect(posted.status).toBe(400);
    expect(posted.text).toContain('not in a domain that this sign-in service federates');
    expect(posted.text).not.toContain('wresult');
  });

  it('insidecorporatenetwork is true only for clients in federation.internalNetworks', async () => {
    for (const [networks, expected] of [[['127.0.0.0/8', '::1/128'], 'true'], [['10.0.0.0/8'], 'false']] as const) {
      const t = await tenantApp({ federation: { internalNetworks: networks } });
      const { form } = await signInThrough(t, request.agent(t.app), entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
      const verdict = validateLoginSrfPost(form.fields, entraTenant(t), { wctx: ENTRA_WCTX, sentAt: new Date() });
      expect(verdict.claims?.insideCorporateNetwork, networks.join()).toBe(expected);
    }
  });
});

describe('WS-Fed for other applications', () => {
  it('a generic application gets its claims, its issuer and the reply URL it asked for (when registered)', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    const q = new URLSearchParams({ wa: 'wsignin1.0', wtrealm: APP_B.identifier, wctx: 'rm=0&id=passive&ru=%2f' });
    const { form } = await signInThrough(t, agent, `/wsfed?${q}`, TENANT_USERS.alice.login);
    expect(form.action).toBe(APP_B.replyUrl);
    expect(form.fields.wctx).toBe('rm=0&id=passive&ru=%2f');
    const assertion = assertionOf(form.fields.wresult!);
    expect(assertion).toContain('Issuer="http://sts.contoso.test/adfs/services/trust"');
    expect(assertion).toContain('<saml:Audience>urn:test:app-b</saml:Audience>');
    expect(assertion).toContain('AttributeName="role" AttributeNamespace="http://schemas.microsoft.com/ws/2008/06/identity/claims"');
    expect(assertion).toContain('<saml:AttributeValue>staff</saml:AttributeValue>');
    expect(xmlsec1Verifies(form.fields.wresult!, t.services.keys.current)).toBe(true);

    const other = await agent.get(`/wsfed?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: APP_A.identifier, wreply: 'https://app-a.test/other' })}`);
    expect(readAutopost(other.text).action).toBe('https://app-a.test/other');
  });
});

describe('WS-Fed sign-in: bad requests never produce a token', () => {
  it.each([
    ['an unknown realm', { wa: 'wsignin1.0', wtrealm: 'urn:evil' }, 400, 'not known'],
    ['an unregistered wreply', { wa: 'wsignin1.0', wtrealm: APP_A.identifier, wreply: 'https://evil.test/steal' }, 400, 'has not registered'],
    ['a wreply that only starts like a registered one', { wa: 'wsignin1.0', wtrealm: APP_A.identifier, wreply: `${APP_A.replyUrl}.evil.test/` }, 400, 'has not registered'],
    ['a wreply on another scheme', { wa: 'wsignin1.0', wtrealm: APP_A.identifier, wreply: 'javascript:alert(1)' }, 400, 'has not registered'],
    ['Entra with a wreply other than login.srf', { wa: 'wsignin1.0', wtrealm: 'urn:federation:MicrosoftOnline', wreply: 'https://login.microsoftonline.com.evil.test/login.srf' }, 400, 'has not registered'],
    ['no wtrealm', { wa: 'wsignin1.0' }, 400, 'could not be understood'],
    ['an unknown wa', { wa: 'wattr1.0', wtrealm: APP_A.identifier }, 400, 'could not be understood'],
    ['a bad wfresh', { wa: 'wsignin1.0', wtrealm: APP_A.identifier, wfresh: 'soon' }, 400, 'could not be understood'],
  ])('%s gets the error page', async (_name, query, status, text) => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    // Signed in already: even then nothing is posted anywhere.
    await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
    const res = await agent.get(`/adfs/ls/?${new URLSearchParams(query as Record<string, string>)}`);
    expect(res.status).toBe(status);
    expect(res.text).toContain(text);
    expect(res.text).not.toContain('wresult');
    expect(res.text).toContain(res.headers['x-request-id']);
  });

  it('repeated and oversized parameters are refused', async () => {
    const t = await tenantApp();
    const repeated = await request(t.app).get(`/adfs/ls/?wa=wsignin1.0&wtrealm=${APP_A.identifier}&wtrealm=urn:evil`);
    expect(repeated.status).toBe(400);
    const big = await request(t.app).get(`/adfs/ls/?wa=wsignin1.0&wtrealm=${APP_A.identifier}&wctx=${'x'.repeat(9000)}`);
    expect(big.status).toBe(400);
  });

  it('wctx with markup is escaped in the page and still posted back exactly', async () => {
    const t = await tenantApp();
    const wctx = '"><script>alert(1)</script>&amp;\'<!--';
    const agent = request.agent(t.app);
    const q = new URLSearchParams({ wa: 'wsignin1.0', wtrealm: APP_A.identifier, wctx });
    const { form, html } = await signInThrough(t, agent, `/wsfed?${q}`, TENANT_USERS.alice.login);
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(form.fields.wctx).toBe(wctx);
  });

  it('the token page allows posting only to the reply URL (CSP) and is never cached', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
    const res = await agent.get(entraRedirect(TENANT_USERS.alice.login));
    expect(res.headers['content-security-policy']).toContain('form-action https://login.microsoftonline.com/login.srf');
    expect(res.headers['content-security-policy']).toContain("object-src 'none'");
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('WS-Fed sign-out', () => {
  it('wsignout1.0 ends the session, cleans up every other WS-Fed application of it, then returns to a registered wreply', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    await signInThrough(t, agent, `/wsfed?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: APP_A.identifier })}`, TENANT_USERS.alice.login);
    const b = await agent.get(`/wsfed?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: APP_B.identifier })}`);
    expect(b.status).toBe(200); // single sign-on into the second application
    const out = await agent.get(`/adfs/ls/?${new URLSearchParams({ wa: 'wsignout1.0', wreply: APP_A.replyUrl })}`);
    expect(out.status).toBe(200);
    // App A asked (its wreply): it has signed out itself; app B is told in a hidden frame.
    expect(out.text).not.toContain('src="https://app-a.test/signin-wsfed?wa=wsignoutcleanup1.0"');
    expect(out.text).toContain('src="https://app-b.test/signin-wsfed?wa=wsignoutcleanup1.0"');
    expect(out.text).toContain(`href="${APP_A.replyUrl}"`);
    expect(out.text).toContain('<script src="/static/signed-out.js">'); // goes back to A once the frames loaded
    expect(out.headers['content-security-policy']).toContain('frame-src https://app-b.test/signin-wsfed?wa=wsignoutcleanup1.0');
    expect(t.audits('signout')).toEqual([expect.objectContaining({ user: 'alice@contoso.test', application: 'wsfed' })]);
    const after = await agent.get(`/wsfed?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: APP_B.identifier })}`);
    expect(isSignInForm(after)).toBe(true); // signed out everywhere: the form again
  });

  it('an unregistered wreply on sign-out still signs out but does not redirect there', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
    const out = await agent.get(`/adfs/ls/?${new URLSearchParams({ wa: 'wsignout1.0', wreply: 'https://evil.test/' })}`);
    expect(out.status).toBe(200);
    expect(out.text).not.toContain('evil.test');
    expect(out.text).toContain('src="https://login.microsoftonline.com/login.srf?wa=wsignoutcleanup1.0"');
  });

  it('a bare GET of /adfs/ls/ (Entra\'s signOutUri) signs out', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
    expect((await agent.get('/adfs/ls/')).status).toBe(200);
    expect(isSignInForm(await agent.get(entraRedirect(TENANT_USERS.alice.login)))).toBe(true);
  });
});

describe('WS-Fed review cases', () => {
  it('a login hint naming another user than the session\'s shows the form, pre-filled, instead of answering as the session user', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
    const other = await agent.get(entraRedirect(TENANT_USERS.fred.login));
    expect(isSignInForm(other)).toBe(true);
    const { form } = await signInThrough(t, agent, entraRedirect(TENANT_USERS.fred.login), TENANT_USERS.fred.login);
    const verdict = validateLoginSrfPost(form.fields, entraTenant(t), { wctx: ENTRA_WCTX, sentAt: new Date() });
    expect(verdict.user?.upn).toBe('fred@fabrikam.test');
    // The same user in another spelling is still single sign-on.
    expect(readAutopost((await agent.get(entraRedirect('FRED@fabrikam.test'))).text).fields.wresult).toBeDefined();
  });

  it('prompt is read as a list, case-insensitively: "LOGIN" and "login consent" force a fresh sign-in', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
    for (const prompt of ['LOGIN', 'login consent']) expect(isSignInForm(await agent.get(entraRedirect(TENANT_USERS.alice.login, { prompt }))), prompt).toBe(true);
    expect(readAutopost((await agent.get(entraRedirect(TENANT_USERS.alice.login, { prompt: 'consent' }))).text).fields.wresult).toBeDefined();
  });

  it('wfresh=N asks for an authentication at most N minutes old', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
    expect((await agent.get(entraRedirect(TENANT_USERS.alice.login, { wfresh: '5' }))).status).toBe(200);
  });

  it('a wctx with line breaks or NUL is refused (a browser would not post it back unchanged); an absent wctx posts none, an empty one an empty field', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
    for (const wctx of ['a\nb', 'a\rb', 'a\u0000b']) {
      expect((await agent.get(`/wsfed?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: APP_A.identifier, wctx })}`)).status).toBe(400);
    }
    const absent = readAutopost((await agent.get(`/wsfed?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: APP_A.identifier })}`)).text);
    expect('wctx' in absent.fields).toBe(false);
    const empty = readAutopost((await agent.get(`/wsfed?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: APP_A.identifier, wctx: '' })}`)).text);
    expect(empty.fields.wctx).toBe('');
  });

  it('a WS-Fed sign-in POSTed as a form works like the GET; repeated wreply or wctx in a form is refused', async () => {
    const t = await tenantApp();
    const agent = request.agent(t.app);
    await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
    const posted = await agent.post('/adfs/ls/').type('form').send({ wa: 'wsignin1.0', wtrealm: APP_A.identifier, wctx: 'x' });
    expect(readAutopost(posted.text).fields.wctx).toBe('x');
    for (const dup of ['wreply', 'wctx']) {
      const body = `wa=wsignin1.0&wtrealm=${encodeURIComponent(APP_A.identifier)}&${dup}=${encodeURIComponent(APP_A.replyUrl)}&${dup}=x`;
      expect((await agent.post('/adfs/ls/').type('form').send(body)).status, dup).toBe(400);
    }
  });

  it('wsignoutcleanup1.0 sent to fedgate ends the session; a GET with only client-request-id signs out too', async () => {
    const t = await tenantApp();
    for (const query of ['?wa=wsignoutcleanup1.0', '?client-request-id=83a18d4d-0b0e-4c9b-9b3f-1d1a2b3c4d5e']) {
      const agent = request.agent(t.app);
      await signInThrough(t, agent, entraRedirect(TENANT_USERS.alice.login), TENANT_USERS.alice.login);
      expect((await agent.get(`/adfs/ls/${query}`)).status, query).toBe(200);
      expect(isSignInForm(await agent.get(entraRedirect(TENANT_USERS.alice.login))), query).toBe(true);
    }
  });

  it('with a trusted proxy list, a client cannot claim an internal address in X-Forwarded-For', async () => {
    // The proxy (127.0.0.1 here) is trusted; the real client's address is what the proxy appended.
    const t = await tenantApp({ server: { baseUrl: 'http://sts.contoso.test', trustProxy: ['127.0.0.1'] }, federation: { internalNetworks: ['10.0.0.0/8'] } });
    const agent = request.agent(t.app);
    const forwarded = '10.1.2.3, 203.0.113.9'; // the client wrote 10.1.2.3; the proxy added 203.0.113.9
    const start = entraRedirect(TENANT_USERS.alice.login);
    const form = await agent.get(start).set('X-Forwarded-For', forwarded);
    const pending = /name="pending" value="([^"]*)"/.exec(form.text)![1]!;
    const csrf = /name="csrf" value="([^"]*)"/.exec(form.text)![1]!;
    const posted = await agent.post('/login').set('X-Forwarded-For', forwarded).type('form').send({ pending, csrf, UserName: TENANT_USERS.alice.login, Password: PASSWORD });
    const verdict = validateLoginSrfPost(readAutopost(posted.text).fields, entraTenant(t), { wctx: ENTRA_WCTX, sentAt: new Date() });
    expect(verdict.claims?.insideCorporateNetwork).toBe('false');
    expect(t.audits('signin.success')[0]?.clientIp).toBe('203.0.113.9');
  });
});

describe('WS-Fed configuration rules', () => {
  it('trustProxy: true is refused (any client could claim any address); two entries for one realm and a domain or issuer twice are refused', async () => {
    await expect(tenantApp({ server: { baseUrl: 'http://sts.contoso.test', trustProxy: true } })).rejects.toThrow(/server\.trustProxy/);
    await expect(tenantApp({ relyingParties: [
      { protocol: 'wsfed', profile: 'entra', domains: ['contoso.test'] },
      { protocol: 'wsfed', profile: 'entra', domains: ['fabrikam.test'] },
    ] })).rejects.toThrow(/relyingParties\.1\.identifier: urn:federation:MicrosoftOnline is already relying party 0/);
    await expect(tenantApp({ relyingParties: [
      { protocol: 'wsfed', profile: 'entra', domains: ['contoso.test', 'contoso.test', { name: 'fabrikam.test', issuerUri: 'http://contoso.test/adfs/services/trust/' }] },
    ] })).rejects.toThrow(/domain contoso\.test is listed twice[\s\S]*issuer http:\/\/contoso\.test\/adfs\/services\/trust\/ is used twice/);
  });
});
