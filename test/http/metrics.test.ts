import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../src/cli/embedded-demo.js';
import { slapdDirectoryConfig } from '../harness/directories.js';
import { authorizeRedirect, samlSignIn, samlSp, unsignedSpClient } from '../protocols/saml/sp-client.js';
import { readAutopost } from '../protocols/wsfed/autopost.js';
import { USERS } from '../harness/users.js';
import { scrape, startMetricsApp, valueOf } from './metrics-app.js';
import { openLoginForm, signIn } from './sign-in-flow.js';

/**
 * /metrics through the real app: figures move with real sign-ins (the sign-in form, WS-Fed and
 * SAML), backends are timed, and only loopback and metrics.allow may read them.
 */
const ALICE = DEMO_USERS[0]!;
const APP_A = { protocol: 'wsfed', identifier: 'urn:test:app-a', replyUrls: ['https://app-a.test/signin-wsfed'] };
const SP = samlSp('sp-metrics');
const SIGNINS = 'fedgate_signins_total';
const TOKEN_COUNT = 'fedgate_token_request_duration_seconds_count';

describe('/metrics after real sign-ins', () => {
  it('counts the sign-in form: a success and a wrong password, under portal; no user name or address in any label', async () => {
    const t = await startMetricsApp();
    expect((await signIn(t.app, ALICE.login, ALICE.password)).res.status).toBe(303);
    expect((await signIn(t.app, ALICE.login, 'wrong-password')).res.status).toBe(401);
    const { samples, text } = await scrape(t);
    expect(valueOf(samples, SIGNINS, { protocol: 'portal', application: 'portal', outcome: 'success' })).toBe(1);
    expect(valueOf(samples, SIGNINS, { protocol: 'portal', application: 'portal', outcome: 'invalid-credentials' })).toBe(1);
    expect(text).not.toContain(ALICE.login);
    expect(text).not.toContain('127.0.0.1');
    // The demo file directory is one server; each sign-in was one call to it.
    expect(valueOf(samples, 'fedgate_directory_request_duration_seconds_count', { server: 'file', operation: 'sign-in' })).toBe(2);
    // Every sign-in start and completion goes through the store.
    expect(valueOf(samples, 'fedgate_state_store_duration_seconds_count', { operation: 'set' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'fedgate_state_store_duration_seconds_count', { operation: 'get' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'fedgate_state_store_errors_total')).toBe(0);
  });

  it('WS-Fed: the token after the form and by single sign-on, by application; the token endpoint timed by status class', async () => {
    const t = await startMetricsApp({ relyingParties: [APP_A] });
    const agent = request.agent(t.app);
    const start = '/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3Atest%3Aapp-a';
    const { pending, csrf } = await openLoginForm(agent, start);
    const posted = await agent.post('/login').type('form').send({ pending, csrf, UserName: ALICE.login, Password: ALICE.password });
    expect(readAutopost(posted.text).action).toBe('https://app-a.test/signin-wsfed');
    const sso = await agent.get(start);
    expect(readAutopost(sso.text).fields.wresult).toBeDefined();
    const { samples } = await scrape(t);
    expect(valueOf(samples, SIGNINS, { protocol: 'wsfed', application: 'urn:test:app-a', outcome: 'success' })).toBe(1);
    expect(valueOf(samples, SIGNINS, { protocol: 'wsfed', application: 'urn:test:app-a', outcome: 'sso' })).toBe(1);
    // The form's POST and the single sign-on answered tokens.
    expect(valueOf(samples, TOKEN_COUNT, { protocol: 'wsfed', status: '2xx' })).toBe(2);
    // The form (the first start's answer) and /metrics are not token answers.
    expect(valueOf(samples, TOKEN_COUNT)).toBe(2);
  });

  it('SAML: a sign-in from an SP counts under its entity ID and times the SAML endpoints', async () => {
    const t = await startMetricsApp({ relyingParties: [SP.config] });
    await samlSignIn(request.agent(t.app), await authorizeRedirect(unsignedSpClient(t, SP)));
    const { samples } = await scrape(t);
    expect(valueOf(samples, SIGNINS, { protocol: 'saml', application: SP.entityId, outcome: 'success' })).toBe(1);
    // The AuthnRequest answered with the form is not counted; the form's POST answered the Response.
    expect(valueOf(samples, TOKEN_COUNT, { protocol: 'saml', status: '2xx' })).toBe(1);
    expect(valueOf(samples, TOKEN_COUNT)).toBe(1);
  });

  it('certificate days left, current only until a next certificate exists; process metrics', async () => {
    const t = await startMetricsApp();
    // The process metrics start at the first scrape (metrics.ts), and prom-client counts CPU from
    // then: a second scrape, after some CPU, shows it counting.
    await scrape(t);
    for (const until = performance.now() + 60; performance.now() < until;);
    const { samples } = await scrape(t);
    const current = samples.find((s) => s.name === 'fedgate_signing_certificate_days_left' && s.labels.certificate === 'current');
    expect(current!.value).toBeCloseTo((t.services.keys.current.notAfter.getTime() - Date.now()) / 86_400_000, 1);
    expect(samples.some((s) => s.labels.certificate === 'next')).toBe(false);
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
  });
});

describe('directory errors per server', () => {
  it('a dead server before slapd: its failure counted under its host:port, the sign-in answered by slapd', async () => {
    const live = slapdDirectoryConfig();
    const liveUrl = new URL(live.urls[0]!);
    const dead = 'ldap://127.0.0.1:1'; // nothing listens on port 1
    const t = await startMetricsApp({}, slapdDirectoryConfig({ urls: [dead, live.urls[0]!] }));
    expect((await signIn(t.app, USERS.alice.upn, USERS.alice.password)).res.status).toBe(303);
    const { samples } = await scrape(t);
    expect(valueOf(samples, 'fedgate_directory_errors_total', { server: '127.0.0.1:1', operation: 'sign-in' })).toBe(1);
    expect(valueOf(samples, 'fedgate_directory_errors_total', { server: `${liveUrl.hostname}:${liveUrl.port}` })).toBe(0);
    expect(valueOf(samples, 'fedgate_directory_request_duration_seconds_count', { server: `${liveUrl.hostname}:${liveUrl.port}`, operation: 'sign-in' })).toBe(1);
    expect(valueOf(samples, SIGNINS, { outcome: 'success' })).toBe(1);
    await t.services.directory.close();
  });

  it('every server dead: each counted, and the sign-in counted as directory-unavailable (its detail never a label)', async () => {
    const t = await startMetricsApp({}, slapdDirectoryConfig({ urls: ['ldap://127.0.0.1:1', 'ldap://127.0.0.1:9'] }));
    await signIn(t.app, USERS.alice.upn, USERS.alice.password);
    const { samples, text } = await scrape(t);
    expect(valueOf(samples, 'fedgate_directory_errors_total', { server: '127.0.0.1:1' })).toBe(1);
    expect(valueOf(samples, 'fedgate_directory_errors_total', { server: '127.0.0.1:9' })).toBe(1);
    expect(valueOf(samples, SIGNINS, { protocol: 'portal', outcome: 'directory-unavailable' })).toBe(1);
    expect(text).not.toContain('ECONNREFUSED');
    await t.services.directory.close();
  });
});

describe('who may read /metrics', () => {
  const get = (t: { app: Parameters<typeof request>[0] }, forwardedFor?: string) => {
    const req = request(t.app).get('/metrics');
    return forwardedFor ? req.set('X-Forwarded-For', forwardedFor) : req;
  };

  it('behind a trusted proxy: the forwarded client decides; loopback and metrics.allow only; never cached', async () => {
    const t = await startMetricsApp({ server: { baseUrl: 'http://127.0.0.1:8080', trustProxy: ['loopback'] }, metrics: { allow: ['10.0.5.0/24'] } });
    const outsider = await get(t, '203.0.113.9');
    expect(outsider.status).toBe(403);
    expect(outsider.text).not.toContain('fedgate_');
    expect(outsider.headers['cache-control']).toBe('no-store');
    const allowed = await get(t, '10.0.5.7');
    expect(allowed.status).toBe(200);
    expect(allowed.headers['cache-control']).toBe('no-store');
    expect((await get(t)).status).toBe(200); // the proxy's own loopback
  });

  it('a forwarded request through a proxy not trusted: the client is unknown, so refused even from loopback', async () => {
    const t = await startMetricsApp();
    expect((await get(t, '127.0.0.1')).status).toBe(403);
    expect((await get(t)).status).toBe(200);
  });

  it('disabled: /metrics is a 404 like any unknown path', async () => {
    const t = await startMetricsApp({ metrics: { enabled: false } });
    expect((await get(t)).status).toBe(404);
  });
});
