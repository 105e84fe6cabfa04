import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { DirectoryUnavailableError } from '../../src/core/errors.js';
import type { Directory } from '../../src/directory/directory.js';
import { startTestApp } from '../harness/app.js';
import { hiddenField, isSignInForm, openLoginForm, sessionSetCookie, signIn } from './sign-in-flow.js';

const ALICE = { login: 'alice@demo.fedgate.test', password: 'Demo-alice-1' };

describe('sign-in page and SSO session (file directory, real app over HTTP)', () => {
  it('signs a person in: the form, then the POST sets the session cookie and returns to the start page, which shows their claims', async () => {
    const t = await startTestApp();
    const { agent, res, pending } = await signIn(t.app, ALICE.login, ALICE.password);
    // Two requests: /signin answered with the form, the POST with the portal's own resume (sign-in-steps.ts).
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    const setCookie = sessionSetCookie(res);
    expect(setCookie).toBeDefined();
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).not.toMatch(/Max-Age|Expires/); // a browser-session cookie without keep-me-signed-in
    const id = /fedgate_session=([^;]+)/.exec(setCookie!)![1]!;
    expect(Buffer.from(id, 'base64url').length).toBeGreaterThanOrEqual(16);

    // The pending sign-in was finished by the POST: its resume link is spent.
    expect((await agent.get(`/signin/resume?pending=${encodeURIComponent(pending)}`)).status).toBe(400);
    const home = await agent.get('/');
    expect(home.text).toContain('alice@demo.fedgate.test');
    expect(home.text).toContain('1MOyofbliUeavN7wEjRWeA=='); // ImmutableID, entra-federation.md §7
    expect(home.text).toContain('engineers, staff'); // nested group
    expect(home.text).toContain('http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password');
    const [event] = t.audits('signin.success');
    expect(event).toMatchObject({ user: 'alice@demo.fedgate.test', application: 'portal', method: 'password' });
    expect(event!.clientIp).toBeTruthy();
    expect(event!.requestId).toBeTruthy();
  });

  it('accepts DOMAIN\\name and the bare name', async () => {
    const t = await startTestApp();
    for (const login of ['DEMO\\alice', 'alice']) {
      const { res } = await signIn(t.app, login, ALICE.password);
      expect(res.status, login).toBe(303);
    }
  });

  it('single sign-on: a second sign-in request is answered from the session without the form', async () => {
    const t = await startTestApp();
    const { agent } = await signIn(t.app, ALICE.login, ALICE.password);
    const again = await agent.get('/signin');
    expect(again.status).toBe(303);
    expect(again.headers.location).toBe('/');
    expect(t.audits('sso.reused')).toHaveLength(1);
  });

  it('a fresh sign-in request (prompt=login) shows the form even with a session', async () => {
    const t = await startTestApp();
    const { agent } = await signIn(t.app, ALICE.login, ALICE.password);
    const fresh = await agent.get('/signin?fresh=1');
    expect(isSignInForm(fresh)).toBe(true);
  });

  it('pre-fills the username from the login hint, escaped', async () => {
    const t = await startTestApp();
    const agent = request.agent(t.app);
    const { form } = await openLoginForm(agent, '/signin?login_hint=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    expect(form.text).not.toContain('<script>alert(1)</script>');
    expect(form.text).toContain('&quot;&gt;&lt;script&gt;');
    const { form: plain } = await openLoginForm(agent, '/signin?login_hint=bob%40demo.fedgate.test');
    expect(plain.text).toContain('value="bob@demo.fedgate.test"');
  });

  it.each([
    ['wrong password', ALICE.login, 'nope', 401, 'Incorrect user name or password', 'invalid-credentials'],
    ['unknown user (same answer: no enumeration)', 'nobody@demo.fedgate.test', 'nope', 401, 'Incorrect user name or password', 'invalid-credentials'],
    ['disabled account', 'carol', 'Demo-carol-1', 403, 'Your account has been disabled', 'disabled'],
    ['expired account', 'dave', 'Demo-dave-1', 403, 'Your account has expired', 'account-expired'],
    ['must change password', 'erin', 'Demo-erin-1', 403, 'You must change your password', 'must-change-password'],
  ])('%s: its own message, status and audit outcome, and no session', async (_name, login, password, status, message, outcome) => {
    const t = await startTestApp();
    const { res } = await signIn(t.app, login, password);
    expect(res.status).toBe(status);
    expect(res.text).toContain(message);
    expect(res.text).toContain(`value="${login.replace('\\', '\\')}"`); // the username stays filled in
    expect(sessionSetCookie(res)).toBeUndefined();
    expect(t.audits('signin.failure')).toEqual([expect.objectContaining({ outcome, user: login })]);
    expect(t.logText()).not.toContain(password === 'nope' ? 'nope"' : password);
  });

  it('a locked account says so (lockout threshold of the demo directory)', async () => {
    const t = await startTestApp({ signIn: { maxFailuresPerUser: 50, unfamiliarMaxFailuresPerUser: 50 } });
    const agent = request.agent(t.app);
    for (let i = 0; i < 5; i++) await signIn(t.app, 'bob', 'wrong', agent);
    const { res } = await signIn(t.app, 'bob', 'Demo-bob-1', agent);
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your account is locked');
    expect(t.audits('signin.failure').at(-1)).toMatchObject({ outcome: 'locked-out' });
  });

  it('holds a username back after too many failures, without asking the directory', async () => {
    let calls = 0;
    const t0 = await startTestApp();
    const counting: Directory = { ...t0.services.directory, authenticate: (l, p) => { calls++; return t0.services.directory.authenticate(l, p); } };
    const t = await startTestApp({ signIn: { maxFailuresPerUser: 3 } }, { directory: counting });
    for (let i = 0; i < 3; i++) expect((await signIn(t.app, 'alice', 'wrong')).res.status).toBe(401);
    const { res } = await signIn(t.app, 'alice', ALICE.password);
    expect(res.status).toBe(429);
    expect(res.text).toContain('Too many sign-in attempts');
    expect(calls).toBe(3);
    expect(t.audits('signin.rate_limited')).toHaveLength(1);
  });

  it('limits attempts per client address', async () => {
    const t = await startTestApp({ signIn: { maxAttemptsPerIpPerMinute: 2 } });
    const agent = request.agent(t.app);
    expect((await signIn(t.app, 'alice', 'x1', agent)).res.status).toBe(401);
    expect((await signIn(t.app, 'bob', 'x2', agent)).res.status).toBe(401);
    expect((await signIn(t.app, 'erin', 'x3', agent)).res.status).toBe(429);
  });

  it('an unreachable directory is "temporarily unavailable", never "wrong password"', async () => {
    const down: Directory = {
      authenticate: async () => { throw new DirectoryUnavailableError('connect ECONNREFUSED 127.0.0.1:1'); },
      findUser: async () => undefined,
      checkAccount: async () => { throw new DirectoryUnavailableError('connect ECONNREFUSED 127.0.0.1:1'); },
      checkHealth: async () => { throw new DirectoryUnavailableError('connect ECONNREFUSED 127.0.0.1:1'); },
      describe: () => 'down',
      close: async () => {},
    };
    const t = await startTestApp({}, { directory: down });
    const { res } = await signIn(t.app, ALICE.login, ALICE.password);
    expect(res.status).toBe(503);
    expect(res.text).toContain('temporarily unavailable');
    expect(res.text).not.toContain('Incorrect');
    expect(t.audits('signin.directory_unavailable')).toHaveLength(1);
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.directory.ok).toBe(false);
  });

  it('refuses a form posted without the CSRF cookie or with a wrong token', async () => {
    const t = await startTestApp();
    const agent = request.agent(t.app);
    const { pending, csrf } = await openLoginForm(agent);
    const stranger = await request(t.app).post('/login').type('form').send({ pending, csrf, UserName: 'alice', Password: ALICE.password });
    expect(stranger.status).toBe(403);
    const wrong = await agent.post('/login').type('form').send({ pending, csrf: 'x'.repeat(43), UserName: 'alice', Password: ALICE.password });
    expect(wrong.status).toBe(403);
    expect(wrong.text).toContain('expired');
    expect(t.audits('signin.success')).toHaveLength(0);
  });

  it('a finished sign-in cannot be resumed twice, nor by another browser', async () => {
    const t = await startTestApp();
    const done = await signIn(t.app, ALICE.login, ALICE.password);
    const otherBrowser = await signIn(t.app, 'bob', 'Demo-bob-1');
    const resumeLink = `/signin/resume?pending=${encodeURIComponent(done.pending)}`;
    // Bob's browser tries Alice's resume link: refused; and Alice's POST already finished it.
    for (const agent of [otherBrowser.agent, done.agent]) {
      const stolen = await agent.get(resumeLink);
      expect(stolen.status).toBe(400);
      expect(stolen.text).toContain('took too long or was already used');
    }
    // Nor can the form be posted again with the same pending sign-in.
    const { csrf } = await openLoginForm(done.agent, '/signin?fresh=1');
    const reposted = await done.agent.post('/login').type('form').send({ pending: done.pending, csrf, UserName: ALICE.login, Password: ALICE.password });
    expect(reposted.status).toBe(400);
    expect(reposted.text).toContain('took too long or was already used');
  });

  it('finish: only the session that completed a pending sign-in takes it (the resume link of OIDC and Kerberos is in a URL), and once', async () => {
    const t = await startTestApp();
    const { pipeline } = t.services;
    const ctx = { clientIp: '127.0.0.1', requestId: 'finish-test' };
    const signInTo = async (login: string, password: string) => {
      const started = await pipeline.start({ application: 'portal', resumePath: '/signin/resume' }, undefined, ctx);
      if (started.kind !== 'login-required') throw new Error(started.kind);
      const done = await pipeline.submitPassword({ pending: started.pending, finishNow: false, login, password, keepMeSignedIn: false, previousSessionId: undefined }, ctx);
      if (done.kind !== 'signed-in') throw new Error(done.kind);
      return { pendingId: started.pending.id, sessionId: done.sessionId };
    };
    const alice = await signInTo(ALICE.login, ALICE.password);
    const bob = await signInTo('bob', 'Demo-bob-1');
    expect(await pipeline.finish(alice.pendingId, bob.sessionId)).toBeUndefined();
    expect(await pipeline.finish(alice.pendingId, undefined)).toBeUndefined();
    // Refusing Bob spent nothing: Alice's browser still finishes, once.
    expect((await pipeline.finish(alice.pendingId, alice.sessionId))?.principal.user.userPrincipalName).toBe(ALICE.login);
    expect(await pipeline.finish(alice.pendingId, alice.sessionId)).toBeUndefined();
  });

  it('finishNow (the form\'s POST answered with the token): the pending sign-in is used up at once, a second post of it gets "expired"', async () => {
    const t = await startTestApp();
    const { pipeline, sessions, store } = t.services;
    const ctx = { clientIp: '127.0.0.1', requestId: 'finish-now-test' };
    const started = await pipeline.start({ application: 'urn:test:app', resumePath: '/adfs/ls/resume' }, undefined, ctx);
    if (started.kind !== 'login-required') throw new Error(started.kind);
    const submit = () => pipeline.submitPassword({ pending: started.pending, finishNow: true, login: ALICE.login, password: ALICE.password, keepMeSignedIn: false, previousSessionId: undefined }, ctx);
    const created = vi.spyOn(sessions, 'create');
    const [first, second] = await Promise.all([submit(), submit()]);
    const outcomes = [first.kind, second.kind].sort();
    expect(outcomes).toEqual(['expired', 'signed-in']);
    // The second made no session (and ended none): its sign-in was already used, and the audit says so.
    expect(created).toHaveBeenCalledTimes(1);
    expect(t.audits('signin.success')).toHaveLength(1);
    expect(t.audits('signin.failure')).toEqual([expect.objectContaining({ outcome: 'already-used', user: ALICE.login })]);
    const won = first.kind === 'signed-in' ? first : second;
    if (won.kind !== 'signed-in') throw new Error(won.kind);
    expect(won.finished?.pending.id).toBe(started.pending.id);
    expect(won.finished?.principal.user.userPrincipalName).toBe(ALICE.login);
    expect(won.finished?.ssoId).toBe(won.session.ssoId);
    // The application is on the session's list from the start (single logout tells it).
    expect((await sessions.use(won.sessionId))?.relyingParties).toEqual(['urn:test:app']);
    // Used up: nothing left for a resume request, and nothing stored under the pending id.
    expect(await store.get(`pending:${started.pending.id}`)).toBeUndefined();
    expect(await pipeline.finish(started.pending.id, won.sessionId)).toBeUndefined();
  });

  it('an unknown or expired pending sign-in gets an error page with a reference, no stack trace', async () => {
    const t = await startTestApp();
    const res = await request(t.app).get('/login?pending=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(res.status).toBe(400);
    expect(res.text).toContain(res.headers['x-request-id']);
    expect(res.text).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('keep me signed in is off by default, and gives a persistent cookie when enabled and chosen', async () => {
    const off = await startTestApp();
    const agent = request.agent(off.app);
    const { form } = await openLoginForm(agent);
    expect(form.text).not.toContain('name="Kmsi"');

    const on = await startTestApp({ session: { keepMeSignedIn: true } });
    const agent2 = request.agent(on.app);
    const { pending, csrf, form: form2 } = await openLoginForm(agent2);
    expect(form2.text).toContain('name="Kmsi"');
    const res = await agent2.post('/login').type('form').send({ pending, csrf, UserName: 'alice', Password: ALICE.password, Kmsi: 'true' });
    const cookie = sessionSetCookie(res);
    expect(cookie).toMatch(/Max-Age=86(3\d\d|400)\b/);
  });

  it('sign-out: confirmation form, CSRF-checked, then the session is gone', async () => {
    const t = await startTestApp();
    const { agent } = await signIn(t.app, ALICE.login, ALICE.password);
    const page = await agent.get('/logout');
    expect(page.text).toContain('Do you want to sign out?');
    const forged = await agent.post('/logout').type('form').send({ csrf: 'forged' });
    expect(forged.status).toBe(403);
    expect((await agent.get('/')).text).toContain('Signed in as');
    const out = await agent.post('/logout').type('form').send({ csrf: hiddenField(page.text, 'csrf') });
    expect(out.status).toBe(200);
    expect(out.text).toContain('You have signed out');
    expect((await agent.get('/')).text).toContain('You are not signed in');
    expect(t.audits('signout')).toEqual([expect.objectContaining({ user: 'alice@demo.fedgate.test' })]);
    // The old cookie value is dead even if replayed.
    expect(isSignInForm(await agent.get('/signin'))).toBe(true);
  });

  it('never logs a password or a session cookie', async () => {
    const t = await startTestApp();
    const { agent, res } = await signIn(t.app, ALICE.login, ALICE.password);
    await agent.get('/');
    const id = /fedgate_session=([^;]+)/.exec(sessionSetCookie(res) ?? '')![1]!;
    expect(t.logText()).not.toContain(ALICE.password);
    expect(t.logText()).not.toContain(id);
    expect(t.logs().some((l) => (l.req as { id?: string } | undefined)?.id)).toBe(true);
  });
});

describe('HTTP edge', () => {
  it('over https the session cookie is Secure and HSTS is sent', async () => {
    const t = await startTestApp({ server: { baseUrl: 'https://sts.example.test' } });
    // supertest speaks plain http, and its cookie jar (like a browser) keeps Secure cookies for
    // https: carry them by hand.
    const form = await request(t.app).get('/signin');
    const csrfCookie = ([] as string[]).concat(form.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Host-fedgate_csrf='))!;
    expect(csrfCookie).toMatch(/; Secure/);
    const res = await request(t.app).post('/login').set('Cookie', csrfCookie.split(';')[0]!).type('form')
      .send({ pending: hiddenField(form.text, 'pending'), csrf: hiddenField(form.text, 'csrf'), UserName: ALICE.login, Password: ALICE.password });
    const session = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Host-fedgate_session='));
    expect(session).toMatch(/; Secure/);
    expect(session).toMatch(/Path=\//);
    expect(session).not.toMatch(/Domain=/i);
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  });

  it('shows the organisation name and logo from the configuration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedgate-logo-'));
    const logoFile = join(dir, 'logo.svg');
    writeFileSync(logoFile, '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    const t = await startTestApp({ branding: { organizationName: 'Contoso', logoFile, helpUrl: 'https://help.contoso.test/' } });
    const { form } = await openLoginForm(request.agent(t.app));
    expect(form.text).toContain('<img src="/branding/logo" alt="Contoso"');
    expect(form.text).toContain('https://help.contoso.test/');
    const logo = await request(t.app).get('/branding/logo');
    expect(logo.status).toBe(200);
    expect(logo.headers['content-type']).toContain('svg');
  });

  it('healthz and readyz', async () => {
    const t = await startTestApp();
    expect((await request(t.app).get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.directory.ok).toBe(true);
    expect(ready.body.checks.signingCertificate.daysLeft).toBeGreaterThan(300);
  });

  it('security headers on pages, and no framework fingerprint', async () => {
    const t = await startTestApp();
    const res = await request(t.app).get('/');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('malformed input gets a 400 page: repeated parameters, oversized bodies, unknown paths get 404', async () => {
    const t = await startTestApp();
    const repeated = await request(t.app).get('/login?pending=a&pending=b');
    expect(repeated.status).toBe(400);
    expect(repeated.text).toContain('could not be understood');
    const big = await request(t.app).post('/login').type('form').send(`UserName=${'a'.repeat(70_000)}`);
    expect(big.status).toBe(400);
    expect(big.text).not.toMatch(/PayloadTooLargeError|node_modules/);
    const missing = await request(t.app).get('/no/such/page');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('does not exist');
  });

  it('the start page shows the configuration and, in the demo, the demo users and a loud warning', async () => {
    const t = await startTestApp({ demo: true });
    const home = await request(t.app).get('/');
    expect(home.text).toContain('DEMO MODE');
    expect(home.text).toContain('Demo-alice-1');
    expect(home.text).toContain('file ');
  });
});
