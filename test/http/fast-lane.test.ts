import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { withFastLane, type FastHandler } from '../../src/http/fast-lane.js';
import { securityHeaders } from '../../src/http/security-headers.js';
import { startTestApp } from '../harness/app.js';
import { validateLoginSrfPost } from '../entra/login-srf.js';
import { readAutopost } from '../protocols/wsfed/autopost.js';
import { isSignInForm, signIn } from './sign-in-flow.js';
import { ALICE, authorizeRedirect, expectAccepted, expectNothingSecretLogged, messageId, pathOf, samlSignIn, samlSp, SP_CERT, spClient, unsignedSpClient } from '../protocols/saml/sp-client.js';

/**
 * The fast lane answers a signed-in person's token GETs before Express and hands everything else
 * to Express. What it answers must be what Express would have answered; what it declines must
 * reach Express untouched.
 */
/** A GET with the request target sent byte for byte (supertest would drop a fragment). */
async function rawGet(server: ReturnType<typeof createServer>, target: string): Promise<{ status: number; body: string }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const socket = (await import('node:net')).connect(port, '127.0.0.1');
    socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    let raw = '';
    for await (const chunk of socket) raw += String(chunk);
    const [head, ...rest] = raw.split('\r\n\r\n');
    const chunked = /transfer-encoding: chunked/i.test(head!);
    const body = rest.join('\r\n\r\n');
    return { status: Number(head!.split(' ')[1]), body: chunked ? body.split('\r\n').filter((_, i) => i % 2 === 1).join('') : body };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('fast lane dispatch', () => {
  const headers = securityHeaders(false);
  function lane(handler: FastHandler) {
    const fallbacks: string[] = [];
    const observed: string[] = [];
    const listener = withFastLane({
      routes: new Map([['/fast', handler]]), headers, log: pino({ level: 'silent' }), clientIp: (req) => req.socket.remoteAddress ?? '',
      observeToken: (protocol, status) => observed.push(`${protocol} ${status}`),
    }, (req: IncomingMessage, res: ServerResponse) => { fallbacks.push(`${req.method} ${req.url}`); res.end('express'); });
    return { server: createServer(listener), fallbacks, observed };
  }
  const answering: FastHandler = async ({ query, id }) =>
    (query.answer === 'yes' ? { html: `<p>${id}</p>`, formAction: 'https://app.test/post', protocol: 'wsfed' } : undefined);

  it('answers what the handler answers, with the security headers, a request id and no-store', async () => {
    const { server, fallbacks, observed } = lane(answering);
    const res = await request(server).get('/fast?answer=yes');
    expect(res.status).toBe(200);
    expect(res.text).toBe(`<p>${res.headers['x-request-id']}</p>`);
    expect(res.headers['content-security-policy']).toContain('form-action https://app.test/post https:;');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    for (const [name, value] of headers.filter(([n]) => n !== 'Content-Security-Policy')) expect(res.headers[name.toLowerCase()]).toBe(value);
    expect(fallbacks).toEqual([]);
    expect(observed).toEqual(['wsfed 200']);
  });

  it('hands to Express what it declines, what is not a GET of its paths, repeated or oversized parameters, and errors', async () => {
    const failing: FastHandler = async () => { throw new Error('state store down'); };
    const { server, fallbacks } = lane(answering);
    for (const path of ['/fast?answer=no', '/fast', '/fast?answer=yes&answer=yes', `/fast?answer=yes&x=${'a'.repeat(8193)}`, '/other?answer=yes', '/FAST?answer=yes']) {
      expect((await request(server).get(path)).text).toBe('express');
    }
    expect((await request(server).post('/fast?answer=yes')).text).toBe('express');
    // A raw '#' (browsers never send one) ends the query for Express's parser, not for node:querystring.
    expect((await rawGet(server, '/fast?answer=yes#x')).body).toBe('express');
    expect(fallbacks).toHaveLength(8);
    const broken = lane(failing);
    expect((await request(broken.server).get('/fast?answer=yes')).text).toBe('express');
    expect(broken.fallbacks).toEqual(['GET /fast?answer=yes']);
  });
});

describe('fast lane in the app: WS-Fed single sign-on', () => {
  const ENTRA = { wa: 'wsignin1.0', wtrealm: 'urn:federation:MicrosoftOnline', wctx: 'estsredirect=2&estsrequest=rQQIARAAhZE9', username: 'alice@demo.fedgate.test' };
  const query = (extra: Record<string, string> = {}) => new URLSearchParams({ ...ENTRA, ...extra }).toString();

  async function signedIn() {
    const t = await startTestApp({ relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains: ['demo.fedgate.test'] }] });
    const { agent } = await signIn(t.app, 'alice@demo.fedgate.test', 'Demo-alice-1');
    return { t, agent };
  }

  it('answers a signed-in GET exactly as Express answers the same request POSTed: headers, page, token', async () => {
    const { t, agent } = await signedIn();
    const fast = await agent.get(`/adfs/ls/?${query()}`);
    const slow = await agent.post('/adfs/ls/').type('form').send(ENTRA);
    expect(fast.status).toBe(200);
    expect(slow.status).toBe(200);
    const comparable = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([n]) => !['date', 'x-request-id', 'content-length', 'connection', 'keep-alive'].includes(n)));
    expect(comparable(fast.headers)).toEqual(comparable(slow.headers));
    expect(fast.headers['content-security-policy']).toContain('form-action https://login.microsoftonline.com/login.srf https:');
    const fastForm = readAutopost(fast.text);
    const slowForm = readAutopost(slow.text);
    expect(fast.text.replace(/value="[^"]*"/g, '')).toBe(slow.text.replace(/value="[^"]*"/g, ''));
    expect(fastForm.action).toBe(slowForm.action);
    expect(fastForm.fields.wctx).toBe(ENTRA.wctx);
    const tenant = {
      domains: [{ name: 'demo.fedgate.test', issuerUri: 'http://demo.fedgate.test/adfs/services/trust/', signingCertificate: t.services.keys.current.certificateBase64 }],
      users: [{ upn: 'alice@demo.fedgate.test', immutableId: '1MOyofbliUeavN7wEjRWeA==' }],
    };
    const verdict = validateLoginSrfPost(fastForm.fields, tenant, { wctx: ENTRA.wctx, sentAt: new Date() });
    expect(verdict.errors).toEqual([]);
    // Its log lines and audit event carry the request id it answered with.
    const id = fast.headers['x-request-id'];
    // The GET was the fast lane's: Express logs each request it completes (at debug, as the test app logs).
    const completed = (requestId: string | undefined) => t.logs().some((l) => l.msg === 'request completed' && (l.req as { id?: string } | undefined)?.id === requestId);
    expect(completed(slow.headers['x-request-id'])).toBe(true);
    expect(completed(id)).toBe(false);
    expect(t.logs().some((l) => l.msg === 'wsfed: token issued' && (l.req as { id?: string } | undefined)?.id === id)).toBe(true);
    expect(t.audits('sso.reused').some((e) => e.requestId === id)).toBe(true);
    // And the token histogram counts it.
    expect(await t.services.metrics.registry.getSingleMetricAsString('fedgate_token_request_duration_seconds')).toMatch(/_count\{protocol="wsfed",status="2xx"\} 2/);
  });

  it('reads the client address as Express does (server.trustProxy): insidecorporatenetwork and the audit follow the proxy\'s word only', async () => {
    const t = await startTestApp({
      server: { baseUrl: 'http://127.0.0.1:8080', trustProxy: ['127.0.0.1'] }, federation: { internalNetworks: ['10.0.0.0/8'] },
      relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains: ['demo.fedgate.test'] }],
    });
    const { agent } = await signIn(t.app, 'alice@demo.fedgate.test', 'Demo-alice-1');
    const tenant = {
      domains: [{ name: 'demo.fedgate.test', issuerUri: 'http://demo.fedgate.test/adfs/services/trust/', signingCertificate: t.services.keys.current.certificateBase64 }],
      users: [{ upn: 'alice@demo.fedgate.test', immutableId: '1MOyofbliUeavN7wEjRWeA==' }],
    };
    // The trusted proxy (127.0.0.1) reports an internal client; then a client that wrote an internal address itself.
    for (const [forwarded, client, inside] of [['10.1.2.3', '10.1.2.3', 'true'], ['10.1.2.3, 203.0.113.9', '203.0.113.9', 'false']] as const) {
      const res = await agent.get(`/adfs/ls/?${query()}`).set('X-Forwarded-For', forwarded);
      expect(res.status).toBe(200);
      const id = res.headers['x-request-id'];
      expect(t.logs().some((l) => l.msg === 'request completed' && (l.req as { id?: string } | undefined)?.id === id)).toBe(false);
      const verdict = validateLoginSrfPost(readAutopost(res.text).fields, tenant, { wctx: ENTRA.wctx, sentAt: new Date() });
      expect(verdict.claims?.insideCorporateNetwork, forwarded).toBe(inside);
      expect(t.audits('sso.reused').find((e) => e.requestId === id)?.clientIp).toBe(client);
    }
  });

  it('leaves to Express what the session does not answer: fresh sign-in, another user, no session, bad requests', async () => {
    const { agent, t } = await signedIn();
    expect(isSignInForm(await agent.get(`/adfs/ls/?${query({ wfresh: '0' })}`))).toBe(true);
    expect(isSignInForm(await agent.get(`/adfs/ls/?${query({ username: 'bob@demo.fedgate.test' })}`))).toBe(true);
    expect(isSignInForm(await request(t.app).get(`/adfs/ls/?${query()}`))).toBe(true);
    const repeated = await agent.get(`/adfs/ls/?${query()}&wtrealm=urn:federation:MicrosoftOnline`);
    expect(repeated.status).toBe(400);
    expect(repeated.text).not.toContain('wresult');
    const unknown = await agent.get(`/adfs/ls/?${query({ wtrealm: 'urn:unknown' })}`);
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('not known');
    const unregistered = await agent.get(`/adfs/ls/?${query({ wreply: 'https://evil.test/' })}`);
    expect(unregistered.status).toBe(400);
    expect(unregistered.text).not.toContain('wresult');
  });
});

describe('fast lane in the app: SAML single sign-on', () => {
  const OPEN = samlSp('sp-open');
  const SIGNED = samlSp('sp-signed', { signingCertificates: [SP_CERT], requireSignedRequests: true });
  const answeredByExpress = (t: Awaited<ReturnType<typeof startTestApp>>, id: string | undefined) =>
    t.logs().some((l) => l.msg === 'request completed' && (l.req as { id?: string } | undefined)?.id === id);

  it('answers a signed-in person\'s Redirect AuthnRequest, signed or not, at /saml/sso and /adfs/ls/, once', async () => {
    const t = await startTestApp({ relyingParties: [OPEN.config, SIGNED.config] });
    const { agent } = await signIn(t.app, ALICE.login, ALICE.password);
    for (const [definition, client] of [[OPEN, unsignedSpClient], [SIGNED, spClient]] as const) {
      for (const entry of ['/saml/sso', '/adfs/ls/']) {
        const sp = client(t, definition, { entryPoint: `${t.config.server.baseUrl}${entry}` });
        const url = await authorizeRedirect(sp, `relay-${entry.length}`);
        const res = await agent.get(pathOf(url));
        expect(res.status, res.text).toBe(200);
        expect(answeredByExpress(t, res.headers['x-request-id'])).toBe(false);
        expect(res.headers['content-security-policy']).toContain(`form-action ${definition.acs} https:`);
        const form = readAutopost(res.text);
        expect(form.action).toBe(definition.acs);
        expect(form.fields.RelayState).toBe(`relay-${entry.length}`);
        expect((await expectAccepted(t, sp, form)).inResponseTo).toBe(messageId(url));
        // The same request again is a replay: Express refuses it, no Response, and no sign-on is audited for it.
        const reused = t.audits('sso.reused').length;
        const replayed = await agent.get(pathOf(url));
        expect(t.audits('sso.reused')).toHaveLength(reused);
        expect(replayed.status).toBe(400);
        expect(t.logs().some((l) => l.detail === `replayed AuthnRequest ${messageId(url)} from ${definition.entityId}` && (l.req as { id?: string }).id === replayed.headers['x-request-id'])).toBe(true);
        expect(replayed.text).not.toContain('SAMLResponse');
      }
    }
    expect(t.audits('sso.reused').length).toBeGreaterThanOrEqual(4);
    expectNothingSecretLogged(t);
  });

  it('leaves to Express what the session does not answer, having used up nothing: the request is answered after the sign-in form', async () => {
    const t = await startTestApp({ relyingParties: [OPEN.config, SIGNED.config] });
    const sp = unsignedSpClient(t, OPEN);
    const url = await authorizeRedirect(sp, 'first visit');
    const { form, loginShown } = await samlSignIn(request.agent(t.app), url);
    expect(loginShown).toBe(true);
    expect((await expectAccepted(t, sp, form)).inResponseTo).toBe(messageId(url));
    // ForceAuthn, with a session: the form again, through Express.
    const { agent } = await signIn(t.app, ALICE.login, ALICE.password);
    const forced = await agent.get(pathOf(await authorizeRedirect(unsignedSpClient(t, OPEN, { forceAuthn: true }))));
    expect(isSignInForm(forced)).toBe(true);
    // An unsigned request to an SP that requires signatures: Express's error page.
    const unsigned = await agent.get(pathOf(await authorizeRedirect(unsignedSpClient(t, SIGNED))));
    expect(unsigned.status).toBe(400);
    expect(unsigned.text).not.toContain('SAMLResponse');
  });
});
