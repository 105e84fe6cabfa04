/**
 * The SAML attack corpus, through HTTP against /saml/sso and /saml/slo of the real app. The rule
 * (issue 5 §7): until the SP and its ACS are verified, every problem is the error page (400, no
 * auto-post form, no SAMLResponse); a SAML status Response goes only to a registered ACS. Never a
 * 500 or a stack trace, and always a log line carrying the request id and why.
 * Inputs: test/attacks/xml (parser/ for the XML-level attacks, saml/ and the AuthnRequest for the
 * messages); wrapping variants and signed queries from saml-messages.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { postEncoded, postSamlRequest, redirectEncoded } from '../http/saml-flow.js';
import { asksSignIn, isSignInForm } from '../http/sign-in-flow.js';
import { readAutopost } from '../protocols/wsfed/autopost.js';
import { signingKey } from '../xml/signature-oracles.js';
import { HMAC_SHA1, sign } from '../xml/inbound/signed-samples.js';
import { BASE, endpointOf, message, OPEN_ACS, OPEN_SP, signed, signedQuery, STRICT_SP, WRAPPING, type MessageKind } from './saml-messages.js';

const PARSER_CORPUS = join(dirname(fileURLToPath(import.meta.url)), 'xml/parser');
const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
const ALICE = { login: 'alice@demo.fedgate.test', password: 'Demo-alice-1' };

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    relyingParties: [
      {
        protocol: 'saml', identifier: STRICT_SP, replyUrls: ['https://sp.example.test/acs', 'https://sp.example.test/acs2'],
        signingCertificates: [signingKey.certPem], requireSignedRequests: true, singleLogoutUrl: 'https://sp.example.test/slo',
      },
      { protocol: 'saml', identifier: OPEN_SP, replyUrls: [OPEN_ACS], allowIdpInitiated: true, signingCertificates: [signingKey.certPem] },
    ],
  });
});

type Answer = Awaited<ReturnType<ReturnType<typeof request>['get']>>;
const post = (path: string, fields: Record<string, string> | string) => request(t.app).post(path).type('form').send(fields);
const get = (path: string, query: string) => request(t.app).get(`${path}?${query}`);

/** The error page, before anything is sent anywhere, and the log line saying why (`why` in its detail). */
function expectRefused(res: Answer, why?: string | RegExp): void {
  expect(res.status, res.text.slice(0, 200)).toBe(400);
  expect(res.text).not.toContain('id="autopost"');
  expect(res.text).not.toContain('SAMLResponse');
  expect(res.text).not.toMatch(/\n\s+at [\w.<>]+ \(|node_modules|\.ts:\d+/);
  expect(res.headers.location).toBeUndefined();
  const id = String(res.headers['x-request-id']);
  const line = t.logs().find((l) => (l.req as { id?: string } | undefined)?.id === id && typeof l.detail === 'string');
  expect(line, `a log line for request ${id}`).toBeDefined();
  if (why !== undefined) expect(String(line!.detail)).toMatch(why);
}

/** A status Response auto-posted to the registered ACS. */
function expectStatus(res: Answer, acs: string, subCode: string): void {
  expect(res.status).toBe(200);
  const form = readAutopost(res.text);
  expect(form.action).toBe(acs);
  expect(Buffer.from(form.fields.SAMLResponse!, 'base64').toString('utf8')).toContain(`urn:oasis:names:tc:SAML:2.0:status:${subCode}`);
}

/** Asked who the person is (the sign-in form, or /login for it after a POST): the request was accepted. */
const expectAccepted = (res: Answer) => {
  expect(asksSignIn(res), `the sign-in form or the way to it, got ${res.status}: ${res.text.slice(0, 200)}`).toBe(true);
  expect(res.text).not.toContain('id="autopost"');
  expect(res.text).not.toContain('SAMLResponse');
};

describe.each<MessageKind>(['AuthnRequest', 'LogoutRequest', 'LogoutResponse'])('signature wrapping and stripping: %s', (kind) => {
  it.each(Object.entries(WRAPPING))('%s, by POST', (_name, { reason, build }) => {
    return post(endpointOf(kind), { [kind === 'LogoutResponse' ? 'SAMLResponse' : 'SAMLRequest']: postEncoded(build(kind)) }).then((res) => expectRefused(res, new RegExp(`^${reason}:`)));
  });
});

describe('XML-level attacks (XXE, entity expansion, DOCTYPE, encodings, limits) in either binding', () => {
  const files = readdirSync(PARSER_CORPUS);
  it.each(files)('%s', async (file) => {
    const bytes = readFileSync(join(PARSER_CORPUS, file));
    for (const path of ['/saml/sso', '/saml/slo', '/adfs/ls/']) {
      expectRefused(await post(path, { SAMLRequest: bytes.toString('base64') }));
      expectRefused(await get(path, `SAMLRequest=${encodeURIComponent(deflateRawSync(bytes).toString('base64'))}`));
    }
  });

  it('a DEFLATE bomb is stopped while it inflates', async () => {
    const bomb = deflateRawSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
    expectRefused(await get('/saml/sso', `SAMLRequest=${encodeURIComponent(bomb.toString('base64'))}`), /^too-large: .*inflates beyond/);
  });

  it('oversized base64: a POST beyond the form limit, a Redirect URL beyond the header limit', async () => {
    expectRefused(await post('/saml/sso', { SAMLRequest: 'QUFB'.repeat(40_000) }), /too large/i);
    const long = await get('/saml/sso', `SAMLRequest=${'QUFB'.repeat(8_000)}`);
    expect([400, 414, 431]).toContain(long.status);
  });

  it('a message that is not base64, or not DEFLATE on the Redirect binding', async () => {
    expectRefused(await post('/saml/sso', { SAMLRequest: '<samlp:AuthnRequest/>' }), /not base64/);
    expectRefused(await get('/saml/sso', `SAMLRequest=${encodeURIComponent(postEncoded(message('AuthnRequest')))}`), /DEFLATE/);
  });
});

describe('comments inside Issuer', () => {
  it('an unsigned Issuer "<registered SP><!---->.evil" does not select the registered SP', async () => {
    const xml = message('AuthnRequest', { issuer: OPEN_SP, attributes: { AssertionConsumerServiceURL: OPEN_ACS } }).replace(`>${OPEN_SP}<`, `>${OPEN_SP}<!---->.evil<`);
    expectRefused(await post('/saml/sso', { SAMLRequest: postEncoded(xml) }), `unknown SAML issuer ${OPEN_SP}.evil`);
  });

  it('a signed request is read as its signature covers it: a comment alone changes nothing, text added after one breaks the digest', async () => {
    const split = signed('AuthnRequest').replace('>https://sp.example.test/metadata<', '>https://sp.example<!---->.test/metadata<');
    expectAccepted(await post('/saml/sso', { SAMLRequest: postEncoded(split) }));
    const extended = signed('AuthnRequest').replace('>https://sp.example.test/metadata<', '>https://sp.example.test/metadata<!---->.evil<');
    expectRefused(await post('/saml/sso', { SAMLRequest: postEncoded(extended) }));
  });
});

describe('comments inside NameID: a signed LogoutRequest is read as its signature covers it', () => {
  /** Alice signed in at the strict SP; its NameID for her, and her browser. */
  async function aliceAtStrictSp() {
    const agent = request.agent(t.app);
    const res = await postSamlRequest(agent, { SAMLRequest: postEncoded(signed('AuthnRequest')) }, ALICE);
    const xml = Buffer.from(readAutopost(res.text).fields.SAMLResponse!, 'base64').toString('utf8');
    return { agent, nameId: /<saml:NameID[^>]*>([^<]+)<\/saml:NameID>/.exec(xml)![1]! };
  }
  const logoutRequest = (nameId: string) => sign(message('LogoutRequest').replace('>alice-pairwise-id<', `>${nameId}<`), { localName: 'LogoutRequest' });
  /** The LogoutResponse redirected to the SP's logout URL. */
  const logoutStatus = (res: Answer) => {
    expect(res.status).toBe(303);
    const url = new URL(String(res.headers.location));
    expect(url.origin + url.pathname).toBe('https://sp.example.test/slo');
    return inflateRawSync(Buffer.from(url.searchParams.get('SAMLResponse')!, 'base64')).toString('utf8');
  };

  it('her NameID split by a comment is still hers: she is signed out', async () => {
    const { agent, nameId } = await aliceAtStrictSp();
    const split = logoutRequest(nameId).replace(`>${nameId}<`, `>${nameId.slice(0, 5)}<!---->${nameId.slice(5)}<`);
    expect(logoutStatus(await agent.post('/saml/slo').type('form').send({ SAMLRequest: postEncoded(split) }))).toContain('status:Success');
  });

  it('text added after a comment breaks the digest; another person\'s NameID gets UnknownPrincipal at the SP', async () => {
    const { agent, nameId } = await aliceAtStrictSp();
    const extended = logoutRequest(nameId).replace(`>${nameId}<`, `>${nameId}<!---->.evil<`);
    expectRefused(await agent.post('/saml/slo').type('form').send({ SAMLRequest: postEncoded(extended) }), /^digest-mismatch:/);
    expect(logoutStatus(await agent.post('/saml/slo').type('form').send({ SAMLRequest: postEncoded(logoutRequest(`${nameId}.evil`)) }))).toContain('status:UnknownPrincipal');
  });
});

describe('algorithm downgrade', () => {
  it('RSA-SHA1 where the SP is not allowed SHA-1', async () => {
    const xml = signed('AuthnRequest', { signatureAlgorithm: RSA_SHA1, digestAlgorithm: SHA1 });
    expectRefused(await post('/saml/sso', { SAMLRequest: postEncoded(xml) }), /^signature-algorithm-not-allowed:/);
  });

  it('HMAC-SHA1 keyed with the SP\'s public certificate', async () => {
    const xml = signed('AuthnRequest', { hmacSecret: signingKey.certPem });
    expect(xml).toContain(HMAC_SHA1);
    expectRefused(await post('/saml/sso', { SAMLRequest: postEncoded(xml) }), /^signature-algorithm-not-allowed:/);
  });

  it.each([RSA_SHA1, 'http://www.w3.org/2000/09/xmldsig#hmac-sha1'])('Redirect binding SigAlg %s', async (sigAlg) => {
    expectRefused(await get('/saml/sso', signedQuery(message('AuthnRequest'), { sigAlg })), /^signature-algorithm-not-allowed: SigAlg/);
  });

  it('the genuine Redirect signature is accepted (the control)', async () => {
    expectAccepted(await get('/saml/sso', signedQuery(message('AuthnRequest'), { relayState: 'state-1' })));
  });
});

describe('replay, ACS substitution and Destination', () => {
  it('an AuthnRequest ID is answered once', async () => {
    const xml = message('AuthnRequest', { issuer: OPEN_SP, attributes: { AssertionConsumerServiceURL: OPEN_ACS } });
    expectAccepted(await post('/saml/sso', { SAMLRequest: postEncoded(xml) }));
    expectRefused(await post('/saml/sso', { SAMLRequest: postEncoded(xml) }), /^replayed AuthnRequest/);
    // The same request by the other binding is the same request.
    expectRefused(await get('/saml/sso', `SAMLRequest=${encodeURIComponent(redirectEncoded(xml))}`), /^replayed AuthnRequest/);
  });

  it.each([
    'https://evil.example/acs', `${OPEN_ACS}/`, `${OPEN_ACS}?next=https://evil.example`, `${OPEN_ACS}#x`, 'https://open.example.test.evil.example/acs',
    'HTTPS://OPEN.EXAMPLE.TEST/acs', 'https://open.example.test/ACS', 'http://open.example.test/acs', 'https://open.example.test:8443/acs',
  ])('AssertionConsumerServiceURL %s is not registered', async (acs) => {
    const xml = message('AuthnRequest', { issuer: OPEN_SP, attributes: { AssertionConsumerServiceURL: acs } });
    expectRefused(await post('/saml/sso', { SAMLRequest: postEncoded(xml) }), /^ACS .* is not registered/);
  });

  it.each(['7', '-1', '0x0', '1e0', ' 0'])('AssertionConsumerServiceIndex %j is not registered', async (index) => {
    const xml = message('AuthnRequest', { issuer: OPEN_SP, attributes: { AssertionConsumerServiceURL: undefined, AssertionConsumerServiceIndex: index } });
    expectRefused(await post('/saml/sso', { SAMLRequest: postEncoded(xml) }), /^ACS index .* is not registered/);
  });

  it('a URL and an index together are refused', async () => {
    const xml = message('AuthnRequest', { issuer: OPEN_SP, attributes: { AssertionConsumerServiceURL: OPEN_ACS, AssertionConsumerServiceIndex: '0' } });
    expectRefused(await post('/saml/sso', { SAMLRequest: postEncoded(xml) }), /both an ACS URL and an index/);
  });

  it('a signed request meant for another IdP (Destination) is not replayed here', async () => {
    const other = 'https://idp.other.example/saml/sso';
    expectRefused(await post('/saml/sso', { SAMLRequest: postEncoded(signed('AuthnRequest', { destination: other })) }), /Destination https:\/\/idp\.other\.example/);
    expectRefused(await post('/saml/sso', { SAMLRequest: postEncoded(signed('AuthnRequest', { destination: undefined, attributes: { Destination: undefined } })) }), /Destination \(none, on a signed request\)/);
    expectRefused(await post('/saml/slo', { SAMLRequest: postEncoded(signed('LogoutRequest', { destination: 'https://idp.other.example/saml/slo' })) }), /LogoutRequest Destination/);
  });

  it('problems after the ACS is verified get a status Response at that ACS, and only there', async () => {
    const artifact = message('AuthnRequest', { issuer: OPEN_SP, attributes: { AssertionConsumerServiceURL: OPEN_ACS, ProtocolBinding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact' } });
    expectStatus(await post('/saml/sso', { SAMLRequest: postEncoded(artifact) }), OPEN_ACS, 'RequestUnsupported');
    const passive = message('AuthnRequest', { issuer: OPEN_SP, attributes: { AssertionConsumerServiceURL: OPEN_ACS, IsPassive: 'true' } });
    expectStatus(await post('/saml/sso', { SAMLRequest: postEncoded(passive) }), OPEN_ACS, 'NoPassive');
    const stale = message('AuthnRequest', { issuer: OPEN_SP, attributes: { AssertionConsumerServiceURL: OPEN_ACS, IssueInstant: '2020-01-01T00:00:00Z' } });
    expectStatus(await post('/saml/sso', { SAMLRequest: postEncoded(stale) }), OPEN_ACS, 'RequestDenied');
  });
});

describe('RelayState abuse', () => {
  const open = () => message('AuthnRequest', { issuer: OPEN_SP, attributes: { AssertionConsumerServiceURL: OPEN_ACS } });
  it.each([['too long', 'x'.repeat(1025)], ['a control character', 'a\u0001b'], ['CRLF', 'a\r\nSet-Cookie: evil=1'], ['a NUL', 'a\u0000']])('%s, in either binding', async (_name, relayState) => {
    const byPost = await post('/saml/sso', { SAMLRequest: postEncoded(open()), RelayState: relayState });
    expectRefused(byPost, /^RelayState is too long or holds control characters/);
    expect(JSON.stringify(byPost.headers)).not.toContain('evil=1');
    expectRefused(await get('/saml/sso', `SAMLRequest=${encodeURIComponent(redirectEncoded(open()))}&RelayState=${encodeURIComponent(relayState)}`), /^RelayState/);
  });

  it('an ordinary RelayState is echoed byte for byte (the control)', async () => {
    const relayState = 'https://open.example.test/app?a=1&b=<x>"y"';
    const res = await postSamlRequest(request.agent(t.app), { SAMLRequest: postEncoded(open()), RelayState: relayState }, ALICE);
    expect(readAutopost(res.text).fields.RelayState).toBe(relayState);
  });

  it.each(['https://evil.example/', '//evil.example/x', 'javascript:alert(1)', 'https://open.example.test.evil.example/', `/${'x'.repeat(80)}`, '/a\tb'])(
    'IdP-initiated with RelayState %j is refused', async (relayState) => {
      expectRefused(await get('/saml/idp-initiated', `sp=${encodeURIComponent(OPEN_SP)}&RelayState=${encodeURIComponent(relayState)}`), /RelayState .* refused/);
    });

  it('IdP-initiated with a local path or the SP\'s own origin is accepted (the control)', async () => {
    for (const relayState of ['/start', 'https://open.example.test/home']) {
      expectAccepted(await get('/saml/idp-initiated', `sp=${encodeURIComponent(OPEN_SP)}&RelayState=${encodeURIComponent(relayState)}`));
    }
  });
});

describe('parameter pollution and the Redirect signature\'s order', () => {
  it('SAMLRequest twice, by POST or in the query', async () => {
    const a = postEncoded(message('AuthnRequest'));
    const b = postEncoded(signed('AuthnRequest'));
    expectRefused(await post('/saml/sso', `SAMLRequest=${encodeURIComponent(a)}&SAMLRequest=${encodeURIComponent(b)}`), /not a single value/);
    const query = signedQuery(message('AuthnRequest'));
    expectRefused(await get('/saml/sso', `${query}&SAMLRequest=${encodeURIComponent(redirectEncoded(message('AuthnRequest')))}`), /not a single value|appears twice/);
  });

  it('Signature or RelayState twice on a signed Redirect', async () => {
    const query = signedQuery(message('AuthnRequest'), { relayState: 'r' });
    const signature = /&Signature=([^&]+)/.exec(query)![1]!;
    expectRefused(await get('/saml/sso', `${query}&Signature=${signature}`), /^redirect-malformed: Signature appears twice/);
    expectRefused(await get('/saml/sso', `${query}&RelayState=other`), /RelayState/);
  });

  it.each([
    [['SigAlg', 'SAMLRequest', 'RelayState', 'Signature']],
    [['SAMLRequest', 'SigAlg', 'RelayState', 'Signature']],
    [['RelayState', 'SAMLRequest', 'SigAlg', 'Signature']],
  ])('parameters reordered: %j', async (sentOrder) => {
    expectRefused(await get('/saml/sso', signedQuery(message('AuthnRequest'), { relayState: 'r', sentOrder })), /^redirect-malformed: parameters out of order/);
  });

  it('a query signature over a LogoutRequest by another key, and a LogoutResponse whose signature was for a request', async () => {
    const forged = signedQuery(message('LogoutRequest')).replace(/Signature=[^&]+/, `Signature=${encodeURIComponent(Buffer.alloc(256, 1).toString('base64'))}`);
    expectRefused(await get('/saml/slo', forged), /^signature-invalid:/);
    const swapped = signedQuery(message('LogoutResponse'), { parameter: 'SAMLResponse' }).replace(/^SAMLResponse=/, 'SAMLRequest=');
    expectRefused(await get('/saml/slo', swapped));
  });
});

describe('single logout cannot be used against a session the SP had no part in', () => {
  // An SP may send unsigned LogoutRequests (Entra always does): only one the session signed in to,
  // naming the person it was told about, may end it, or any page could sign anyone out with an <img>.
  it('an unsigned LogoutRequest from a non-participant SP naming a stranger leaves the session alone', async () => {
    const agent = request.agent(t.app);
    const first = await postSamlRequest(agent, { SAMLRequest: postEncoded(signed('AuthnRequest')) }, ALICE);
    expect(first.status).toBe(200);
    readAutopost(first.text);
    const stranger = message('LogoutRequest', { issuer: OPEN_SP, attributes: { Destination: undefined } }).replace('alice-pairwise-id', 'someone-else');
    await agent.get(`/saml/slo?SAMLRequest=${encodeURIComponent(redirectEncoded(stranger))}`);
    // Still signed in: the strict SP gets its response without the sign-in page.
    const again = await agent.post('/saml/sso').type('form').send({ SAMLRequest: postEncoded(signed('AuthnRequest')) });
    expect(again.status).toBe(200);
    expect(isSignInForm(again), 'no sign-in form').toBe(false);
    expect(readAutopost(again.text).action).toBe('https://sp.example.test/acs');
  });
});
