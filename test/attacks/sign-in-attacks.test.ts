import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { slapdDirectoryConfig } from '../harness/directories.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { openLoginForm, signIn } from '../http/sign-in-flow.js';
import { HOSTILE_IDS, HOSTILE_LOGINS, XSS_PAYLOADS } from './corpus.js';

/** Named security regressions over the attack corpus, through the real app. */
const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at [\w.<>]+ \(|node_modules|\.ts:\d+/);

describe.each([
  ['file directory', () => startTestApp({ signIn: { maxFailuresPerUser: 1000, maxAttemptsPerIpPerMinute: 1000 } })],
  ['OpenLDAP', () => startTestApp({ signIn: { maxFailuresPerUser: 1000, maxAttemptsPerIpPerMinute: 1000 } }, { directoryConfig: slapdDirectoryConfig() })],
])('LDAP filter injection and odd logins (%s)', (_name, start) => {
  it('no hostile login signs anyone in, none errors, and every answer is the generic one', async () => {
    const t: TestApp = await start();
    // The right password of a real user, so a filter that matched that user would succeed.
    const password = t.config.directory.type === 'file' ? 'Demo-alice-1' : 'Passw0rd!alice';
    for (const login of HOSTILE_LOGINS) {
      const { res } = await signIn(t.app, login, password);
      noStackTrace(res.text);
      if (res.status === 303) {
        // A directory may fold case and accents (slapd matches ALİCE to alice): then it must be alice herself.
        expect(t.audits('signin.success').at(-1)?.user, JSON.stringify(login)).toMatch(/^alice@/);
        expect(login.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()).toBe('alice');
      } else {
        expect([400, 401], `${JSON.stringify(login)} -> ${res.status}`).toContain(res.status);
      }
    }
    expect(t.audits('signin.directory_unavailable')).toHaveLength(0);
  });
});

describe('reflected input is escaped', () => {
  it.each(XSS_PAYLOADS)('login hint %s', async (payload) => {
    const t = await startTestApp();
    const { form } = await openLoginForm(request.agent(t.app), `/signin?login_hint=${encodeURIComponent(payload)}`);
    expect(form.text).not.toContain(payload.includes('<') ? payload : '\u0000never');
    expect(form.text).not.toMatch(/<script>alert|<img src=x|<svg onload/);
    // Echoed as text, escaped, and not evaluated as a template ({{7*7}}, <%= 7*7 %>).
    const escaped = payload.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
    expect(form.text).toContain(`value="${escaped}"`);
  });

  it.each(XSS_PAYLOADS)('typed user name %s after a failed sign-in', async (payload) => {
    const t = await startTestApp();
    const { res } = await signIn(t.app, payload, 'wrong');
    expect(res.status).toBe(401);
    expect(res.text).not.toMatch(/<script>alert|<img src=x|<svg onload/);
  });
});

describe('hostile ids in URLs, forms and cookies', () => {
  it.each(HOSTILE_IDS)('pending id %j gets the "start again" page, no header injection', async (id) => {
    const t = await startTestApp();
    const res = await request(t.app).get(`/login?pending=${encodeURIComponent(id)}`);
    expect([400, 404]).toContain(res.status);
    expect(res.headers['x-injected']).toBeUndefined();
    expect(JSON.stringify(res.headers['set-cookie'] ?? '')).not.toContain('evil');
    noStackTrace(res.text);
    const resume = await request(t.app).get(`/signin/resume?pending=${encodeURIComponent(id)}`);
    expect(resume.status).toBe(400);
  });

  it.each(HOSTILE_IDS.filter((id) => !/[\r\n]/.test(id)))('session cookie %j is simply "not signed in"', async (id) => {
    const t = await startTestApp();
    const res = await request(t.app).get('/').set('Cookie', `fedgate_session=${encodeURIComponent(id)}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('You are not signed in');
  });

  it('a form posted as JSON, or with the fields repeated, is refused without signing in', async () => {
    const t = await startTestApp();
    const agent = request.agent(t.app);
    const { pending, csrf } = await openLoginForm(agent);
    const json = await agent.post('/login').send({ pending, csrf, UserName: 'alice', Password: 'Demo-alice-1' });
    expect(json.status).toBe(403);
    const repeated = await agent.post('/login').type('form')
      .send(`pending=${pending}&csrf=${csrf}&UserName=bob&UserName=alice&Password=Demo-alice-1`);
    expect(repeated.status).toBe(400);
    expect(t.audits('signin.success')).toHaveLength(0);
  });

  it('static files cannot be used to read outside the views folder', async () => {
    const t = await startTestApp();
    for (const path of ['/static/../login.eta', '/static/..%2flogin.eta', '/static/%2e%2e/%2e%2e/package.json']) {
      const res = await request(t.app).get(path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.text).not.toContain('layout(');
      expect(res.text).not.toContain('"dependencies"');
    }
  });
});

describe('password spraying through spelling variants', () => {
  it('failures for ALİCE, Alice, EXAMPLE\\alice and alice count against one account', async () => {
    const t = await startTestApp({ signIn: { maxFailuresPerUser: 3 } }, { directoryConfig: slapdDirectoryConfig() });
    for (const login of ['ALİCE', 'Alice', 'EXAMPLE\\alice']) expect((await signIn(t.app, login, 'wrong')).res.status).toBe(401);
    expect((await signIn(t.app, 'alice', 'Passw0rd!alice')).res.status).toBe(429);
  });
});

describe('password spraying through different login attributes of one account', () => {
  it('UPN, sAMAccountName and DOMAIN\\name share one failure budget once the directory has named the account', async () => {
    let directoryCalls = 0;
    const t0 = await startTestApp({}, { directoryConfig: slapdDirectoryConfig() });
    const directory = t0.services.directory;
    const counting = { ...directory, authenticate: (l: string, p: string) => { directoryCalls++; return directory.authenticate(l, p); } };
    const t = await startTestApp({ signIn: { maxFailuresPerUser: 3 } }, { directory: counting });
    const spellings = ['alice', 'alice@example.test', 'alice@example.test', 'EXAMPLE\\alice', 'alice@example.test'];
    const statuses: number[] = [];
    for (const login of spellings) statuses.push((await signIn(t.app, login, 'wrong')).res.status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(directoryCalls).toBe(3);
    await directory.close();
  });
});
