import { describe, expect, it } from 'vitest';
import type { TestApp } from '../../harness/app.js';
import { validateLoginSrfPost } from '../../entra/login-srf.js';
import { xmlCryptoVerify, xmlsec1VerifiesWith } from '../../xml/signature-oracles.js';
import { APP, DEMO, DEMO_ISSUER, demoTenant, ROLE, wsTrustApp } from './demo-tenant.js';
import { ENTRA_AUDIENCE, type Version } from './rst-fixtures.js';
import { entraVerdict, exchangeAssertion, msalToken, NS, path, postExchange, postMsal } from './wstrust-client.js';

/**
 * usernamemixed (entra-federation.md §3.2–§3.3) through HTTP, with RSTs exactly as MSAL and
 * Exchange build them, over the demo users file: the token is cut out as each client does and
 * must pass the Entra stand-in of the WS-Fed issue, xmlsec1 and xml-crypto.
 */
/** The assertion verifies alone, as the client forwards it (xmlsec1 and xml-crypto). */
function expectVerifies(t: TestApp, assertion: string): void {
  expect(xmlsec1VerifiesWith(assertion, 'saml11', t.services.keys.current)).toBe(true);
  const result = xmlCryptoVerify(assertion, 'saml11', t.services.keys.current.certificate.toString());
  expect(result.valid, result.error).toBe(true);
}

describe.each(['2005', '13'] as const)('usernamemixed %s as MSAL calls it', (version: Version) => {
  it('answers 200 with a token MSAL cuts out by regex and Entra accepts', async () => {
    const t = await wsTrustApp();
    const sentAt = new Date();
    const res = await postMsal(t, version, { username: DEMO.alice.login, password: DEMO.alice.password, messageId: 'c0ffee00-1111-4222-8333-444455556666' });
    expect(res.status, res.text).toBe(200);
    expect(res.contentType).toBe('application/soap+xml; charset=utf-8');
    const token = msalToken(res.text);
    expect(token?.type).toBe('urn:oasis:names:tc:SAML:1.0:assertion');
    const verdict = entraVerdict(token!.token, demoTenant(t), sentAt);
    expect(verdict.errors).toEqual([]);
    expect(verdict.user).toEqual({ upn: DEMO.alice.login, immutableId: DEMO.alice.immutableId });
    expect(verdict.claims?.issuer).toBe(DEMO_ISSUER);
    expect(verdict.claims?.authenticationMethod).toBe('urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport');
    expectVerifies(t, token!.token);
    // The response names the request it answers, and its version's action.
    expect(path(res.text, [NS.s, 'Envelope'], [NS.s, 'Header'], [NS.wsa, 'RelatesTo'])[0]?.textContent).toBe('urn:uuid:c0ffee00-1111-4222-8333-444455556666');
    expect(path(res.text, [NS.s, 'Envelope'], [NS.s, 'Header'], [NS.wsa, 'Action'])[0]?.textContent)
      .toBe(version === '13' ? 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTRC/IssueFinal' : 'http://schemas.xmlsoap.org/ws/2005/02/trust/RSTR/Issue');
    // Audited by the pipeline; the request's log line names the relying party; no secret logged.
    expect(t.audits('signin.success').map((e) => [e.user, e.application])).toEqual([[DEMO.alice.login, ENTRA_AUDIENCE]]);
    const line = t.logs().find((l) => l.msg === 'wstrust: token issued');
    expect(line).toMatchObject({ relyingParty: ENTRA_AUDIENCE, endpoint: `${version}/usernamemixed` });
    expect((line?.req as { id?: string } | undefined)?.id).toBeTruthy();
    expect(t.logText()).not.toContain(DEMO.alice.password);
    expect(t.logText()).not.toContain('AssertionID=');
    expect(t.logText()).not.toContain(token!.token.slice(-200));
  });

  it(`${version === '13' ? 'wraps the RSTR in a RequestSecurityTokenResponseCollection' : 'answers with a bare RSTR'} in the ${version} namespace, with its TokenType, RequestType and KeyType`, async () => {
    const t = await wsTrustApp();
    const res = await postMsal(t, version, { username: DEMO.alice.login, password: DEMO.alice.password });
    const trust = version === '13' ? NS.t13 : NS.t2005;
    const body = [[NS.s, 'Envelope'], [NS.s, 'Body']] as const;
    const rstrs = version === '13'
      ? path(res.text, ...body, [trust, 'RequestSecurityTokenResponseCollection'], [trust, 'RequestSecurityTokenResponse'])
      : path(res.text, ...body, [trust, 'RequestSecurityTokenResponse']);
    expect(rstrs).toHaveLength(1);
    const rstr = rstrs[0]!;
    const text = (local: string) => rstr.getElementsByTagNameNS(trust, local).item(0)?.textContent;
    expect(text('TokenType')).toBe('urn:oasis:names:tc:SAML:1.0:assertion');
    expect(text('RequestType')).toBe(version === '13' ? 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue' : 'http://schemas.xmlsoap.org/ws/2005/02/trust/Issue');
    expect(text('KeyType')).toBe(version === '13' ? 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer' : 'http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey');
    expect(rstr.getElementsByTagNameNS('http://www.w3.org/2005/08/addressing', 'Address').item(0)?.textContent).toBe(ENTRA_AUDIENCE);
    // The other shape is absent: no collection on 2005, no bare RSTR directly in the 1.3 Body.
    if (version === '2005') expect(res.text).not.toContain('RequestSecurityTokenResponseCollection');
    else expect(path(res.text, ...body, [trust, 'RequestSecurityTokenResponse'])).toHaveLength(0);
  });

  it('a generic WS-Fed application named by AppliesTo gets its own claims and audience', async () => {
    const t = await wsTrustApp();
    const res = await postMsal(t, version, { username: DEMO.alice.login, password: DEMO.alice.password, appliesTo: APP.identifier });
    expect(res.status, res.text).toBe(200);
    const assertion = msalToken(res.text)!.token;
    expectVerifies(t, assertion);
    const doc = path(assertion, [NS.saml, 'Assertion'])[0]!;
    expect(doc.getElementsByTagNameNS(NS.saml, 'Audience').item(0)?.textContent).toBe(APP.identifier);
    const attributes = Array.from({ length: doc.getElementsByTagNameNS(NS.saml, 'Attribute').length }, (_, i) => doc.getElementsByTagNameNS(NS.saml, 'Attribute').item(i)!)
      .map((a) => [`${a.getAttribute('AttributeNamespace')}/${a.getAttribute('AttributeName')}`, Array.from({ length: a.getElementsByTagNameNS(NS.saml, 'AttributeValue').length }, (_, i) => a.getElementsByTagNameNS(NS.saml, 'AttributeValue').item(i)!.textContent)]);
    expect(attributes).toEqual([
      ['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', [DEMO.alice.login]],
      [ROLE, ['engineers', 'staff']],
    ]);
    expect(t.audits('signin.success')[0]?.application).toBe(APP.identifier);
  });
});

describe('usernamemixed 2005 as Exchange Online calls it (ps:AuthInfo header, no SOAPAction)', () => {
  it('answers 200 with the assertion where Exchange\'s XPath finds it, byte for byte verifiable', async () => {
    const t = await wsTrustApp();
    const sentAt = new Date();
    const res = await postExchange(t, { username: DEMO.bob.login, password: DEMO.bob.password });
    expect(res.status, res.text).toBe(200);
    const found = exchangeAssertion(res.text);
    expect(found).toBeDefined();
    // Exchange forwards xmlNode.OuterXml; the regex cut (MSAL) is the same element.
    const cut = msalToken(res.text)!.token;
    expect(found!.getAttribute('AssertionID')).toBe(/AssertionID="([^"]+)"/.exec(cut)![1]);
    const verdict = entraVerdict(cut, demoTenant(t), sentAt);
    expect(verdict.errors).toEqual([]);
    expect(verdict.user).toEqual({ upn: DEMO.bob.login, immutableId: DEMO.bob.immutableId });
    expectVerifies(t, cut);
    expect(t.logText()).not.toContain(DEMO.bob.password);
  });

  it('the 2005 RSTR is, as cut from the body, the same RSTR WS-Fed posts: Entra accepts it whole', async () => {
    const t = await wsTrustApp();
    const res = await postExchange(t, { username: DEMO.alice.login, password: DEMO.alice.password });
    const rstr = /<t:RequestSecurityTokenResponse [\s\S]*<\/t:RequestSecurityTokenResponse>/.exec(res.text)![0];
    const verdict = validateLoginSrfPost({ wa: 'wsignin1.0', wresult: rstr, wctx: 'x' }, demoTenant(t), { wctx: 'x', sentAt: new Date() });
    expect(verdict.errors).toEqual([]);
  });
});
