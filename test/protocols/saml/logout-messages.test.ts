import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PARTIAL_LOGOUT, writeLogoutRequest, writeLogoutResponse, type LogoutRequestInput } from '../../../src/protocols/saml/logout-messages.js';
import { postBindingForm, redirectBindingUrl, type OutboundSamlMessage } from '../../../src/protocols/saml/redirect-binding.js';
import { SAML_LOGOUT_REASON_USER, SAML_NAMEID_FORMAT, SAML_NS, SAML_STATUS } from '../../../src/protocols/saml/saml-constants.js';
import type { SignatureAlgorithm } from '../../../src/xml/enveloped-signature.js';
import { DEFAULT_SIGNATURE_ALGORITHMS, verifyRedirectBindingSignature, XMLDSIG_ALGORITHMS } from '../../../src/xml/verify-signed.js';
import { DSIG, firstElement, parseXml, signingKey, xmlCryptoCanonical } from '../../xml/signature-oracles.js';
import { base64, childNames, IDP_ISSUER, nodeSamlSp, nodeSamlSpExpecting, SP, xmlsec1VerifySaml2 } from './writer-fixtures.js';

const P = SAML_NS.protocol;
const A = SAML_NS.assertion;
const key = signingKey.key;
const CERTS = [signingKey.key.certificateBase64];
const BOTH_ALGORITHMS = [...DEFAULT_SIGNATURE_ALGORITHMS, XMLDSIG_ALGORITHMS.rsaSha1];
const LOGOUT_REQUEST_ID = '_5b1e2c3d-1d4c-4f4e-9d0a-4e5f049917a6';

function logoutRequestInput(overrides: Partial<LogoutRequestInput> = {}): LogoutRequestInput {
  const now = new Date();
  return {
    id: '_a1b2c3d4-0c4d-4e5f-8a9b-0c1d2e3f4a5b',
    issueInstant: now,
    issuer: IDP_ISSUER,
    destination: SP.slo,
    nameId: { value: 'alice@example.com', format: SAML_NAMEID_FORMAT.emailAddress, spNameQualifier: SP.entityId },
    sessionIndexes: ['_7e3c1a2b-0c4d-4e5f-8a9b-0c1d2e3f4a5b'],
    notOnOrAfter: new Date(now.getTime() + 5 * 60_000),
    ...overrides,
  };
}

function logoutResponse(signer?: SignatureAlgorithm, status?: typeof PARTIAL_LOGOUT, inResponseTo = LOGOUT_REQUEST_ID): string {
  return writeLogoutResponse({ id: '_f0e1d2c3-0c4d-4e5f-8a9b-0c1d2e3f4a5b', issueInstant: new Date(), issuer: IDP_ISSUER, destination: SP.slo, inResponseTo, status },
    signer === undefined ? undefined : { key, algorithm: signer });
}


/** node-saml's redirect validation wants the parsed values and the raw query. */
function redirectParts(url: string): { container: Record<string, string>; query: string } {
  const query = url.slice(url.indexOf('?') + 1);
  return { container: Object.fromEntries(new URLSearchParams(query)), query };
}

function inflate(url: string, parameter: string): string {
  const value = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get(parameter)!;
  return inflateRawSync(Buffer.from(value, 'base64')).toString('utf8');
}

describe('writeLogoutRequest', () => {
  it('Issuer, NameID with the SP format and qualifier, SessionIndex; Destination, NotOnOrAfter, Reason; canonical, no whitespace', () => {
    const input = logoutRequestInput({ sessionIndexes: ['_s1', '_s2'] });
    const xml = writeLogoutRequest(input);
    const doc = parseXml(xml);
    const root = doc.documentElement!;
    expect([root.namespaceURI, root.localName, root.getAttribute('Version')]).toEqual([P, 'LogoutRequest', '2.0']);
    expect(root.getAttribute('Destination')).toBe(SP.slo);
    expect(root.getAttribute('NotOnOrAfter')).toBe(input.notOnOrAfter.toISOString());
    expect(root.getAttribute('Reason')).toBe(SAML_LOGOUT_REASON_USER);
    expect(childNames(root)).toEqual(['Issuer', 'NameID', 'SessionIndex', 'SessionIndex']);
    const nameId = firstElement(doc, A, 'NameID');
    expect([nameId.textContent, nameId.getAttribute('Format'), nameId.getAttribute('SPNameQualifier')]).toEqual(['alice@example.com', SAML_NAMEID_FORMAT.emailAddress, SP.entityId]);
    expect(Array.from({ length: 2 }, (_, i) => doc.getElementsByTagNameNS(P, 'SessionIndex').item(i)!.textContent)).toEqual(['_s1', '_s2']);
    expect(doc.getElementsByTagNameNS(DSIG, 'Signature').length).toBe(0);
    expect(xmlCryptoCanonical(root)).toBe(xml);
    expect(xml).not.toMatch(/>\s+</);
  });

  for (const algorithm of ['rsa-sha256', 'rsa-sha1'] as const) {
    it(`${algorithm}: signed for the POST binding, verified by xmlsec1 and accepted by node-saml`, async () => {
      const xml = writeLogoutRequest(logoutRequestInput(), { key, algorithm });
      const check = xmlsec1VerifySaml2(xml, 'LogoutRequest');
      expect(check.ok, check.output).toBe(true);
      expect(childNames(parseXml(xml).documentElement!)).toEqual(['Issuer', 'Signature', 'NameID', 'SessionIndex']);
      const result = await nodeSamlSp().validatePostRequestAsync({ SAMLRequest: base64(xml) });
      expect(result.loggedOut).toBe(true);
      expect(result.profile).toMatchObject({ issuer: IDP_ISSUER, nameID: 'alice@example.com', nameIDFormat: SAML_NAMEID_FORMAT.emailAddress, sessionIndex: '_7e3c1a2b-0c4d-4e5f-8a9b-0c1d2e3f4a5b' });
    });
  }

  it('a tampered signed LogoutRequest is refused by xmlsec1 and node-saml', async () => {
    const xml = writeLogoutRequest(logoutRequestInput(), { key, algorithm: 'rsa-sha256' }).replace('>alice@example.com<', '>bob@example.com<');
    expect(xmlsec1VerifySaml2(xml, 'LogoutRequest').ok).toBe(false);
    await expect(nodeSamlSp().validatePostRequestAsync({ SAMLRequest: base64(xml) })).rejects.toThrow(/signature/i);
  });

  it('over the Redirect binding with a signed query: node-saml and our inbound verifier accept it, and it inflates back to the XML', async () => {
    const xml = writeLogoutRequest(logoutRequestInput());
    const relayState = 'back to /app?x=1&y=ü';
    for (const algorithm of ['rsa-sha256', 'rsa-sha1'] as const) {
      const url = redirectBindingUrl(SP.slo, { parameter: 'SAMLRequest', xml, relayState }, { key, algorithm });
      expect(url.startsWith(`${SP.slo}?SAMLRequest=`)).toBe(true);
      expect(inflate(url, 'SAMLRequest')).toBe(xml);
      const { container, query } = redirectParts(url);
      const result = await nodeSamlSp().validateRedirectAsync(container, query);
      expect(result.profile).toMatchObject({ nameID: 'alice@example.com', sessionIndex: '_7e3c1a2b-0c4d-4e5f-8a9b-0c1d2e3f4a5b' });
      const ours = verifyRedirectBindingSignature({ raw: query }, CERTS, BOTH_ALGORITHMS);
      expect([ours.parameter, ours.relayState, ours.signatureAlgorithm]).toEqual(['SAMLRequest', relayState, algorithm === 'rsa-sha256' ? XMLDSIG_ALGORITHMS.rsaSha256 : XMLDSIG_ALGORITHMS.rsaSha1]);
      expect(inflateRawSync(Buffer.from(ours.message, 'base64')).toString('utf8')).toBe(xml);
    }
  });

  it('a changed RelayState or message breaks the query signature (node-saml and our verifier)', async () => {
    const url = redirectBindingUrl(SP.slo, { parameter: 'SAMLRequest', xml: writeLogoutRequest(logoutRequestInput()), relayState: 'r1' }, { key, algorithm: 'rsa-sha256' });
    const tampered = url.replace('RelayState=r1', 'RelayState=r2');
    const { container, query } = redirectParts(tampered);
    await expect(nodeSamlSp().validateRedirectAsync(container, query)).rejects.toThrow(/signature/i);
    expect(() => verifyRedirectBindingSignature({ raw: query }, CERTS, BOTH_ALGORITHMS)).toThrow();
    const other = redirectBindingUrl(SP.slo, { parameter: 'SAMLRequest', xml: writeLogoutRequest(logoutRequestInput({ id: '_other' })), relayState: 'r1' });
    const swapped = url.replace(/SAMLRequest=[^&]+/, other.match(/SAMLRequest=[^&]+/)![0]);
    expect(() => verifyRedirectBindingSignature({ raw: redirectParts(swapped).query }, CERTS, BOTH_ALGORITHMS)).toThrow();
  });
});

describe('writeLogoutResponse', () => {
  it('InResponseTo, Destination, Status Success; PartialLogout as a second-level code under Success', () => {
    const doc = parseXml(logoutResponse());
    const root = doc.documentElement!;
    expect([root.localName, root.getAttribute('InResponseTo'), root.getAttribute('Destination')]).toEqual(['LogoutResponse', LOGOUT_REQUEST_ID, SP.slo]);
    expect(childNames(root)).toEqual(['Issuer', 'Status']);
    expect(firstElement(doc, P, 'StatusCode').getAttribute('Value')).toBe(SAML_STATUS.success);
    expect(firstElement(doc, P, 'StatusCode').getElementsByTagNameNS(P, 'StatusCode').length).toBe(0);

    const partial = parseXml(logoutResponse(undefined, PARTIAL_LOGOUT));
    const top = firstElement(partial, P, 'StatusCode');
    expect([top.getAttribute('Value'), firstElement(top, P, 'StatusCode').getAttribute('Value')]).toEqual([SAML_STATUS.success, SAML_STATUS.partialLogout]);
  });

  it('signed for POST: xmlsec1 verifies it; node-saml accepts it signed and refuses it unsigned', async () => {
    for (const status of [undefined, PARTIAL_LOGOUT]) {
      const xml = logoutResponse('rsa-sha256', status);
      const check = xmlsec1VerifySaml2(xml, 'LogoutResponse');
      expect(check.ok, check.output).toBe(true);
      // node-saml's POST path reads InResponseTo only on a Response, so it is checked over Redirect below.
      expect(await nodeSamlSp().validatePostResponseAsync({ SAMLResponse: base64(xml) })).toEqual({ profile: null, loggedOut: true });
    }
    await expect(nodeSamlSp().validatePostResponseAsync({ SAMLResponse: base64(logoutResponse()) })).rejects.toThrow(/signature/i);
  });

  it('over the Redirect binding: node-saml (checking InResponseTo) and our verifier accept the signed query', async () => {
    const xml = logoutResponse(undefined, PARTIAL_LOGOUT);
    const url = redirectBindingUrl(`${SP.slo}?tenant=a`, { parameter: 'SAMLResponse', xml }, { key, algorithm: 'rsa-sha256' });
    expect(url.startsWith(`${SP.slo}?tenant=a&SAMLResponse=`)).toBe(true);
    const { container, query } = redirectParts(url);
    expect(await (await nodeSamlSpExpecting(LOGOUT_REQUEST_ID)).validateRedirectAsync(container, query)).toEqual({ profile: null, loggedOut: true });
    await expect((await nodeSamlSpExpecting('_another')).validateRedirectAsync(container, query)).rejects.toThrow(/InResponseTo/);
    const ours = verifyRedirectBindingSignature({ raw: query }, CERTS, DEFAULT_SIGNATURE_ALGORITHMS);
    expect([ours.parameter, ours.relayState]).toEqual(['SAMLResponse', undefined]);
  });
});

describe('the bindings', () => {
  const message: OutboundSamlMessage = { parameter: 'SAMLResponse', xml: '<x>é</x>', relayState: 'state & "more"' };

  it('POST: the form action and the base64 message then RelayState', () => {
    const form = postBindingForm(SP.acs, message);
    expect(form.action).toBe(SP.acs);
    expect(Object.keys(form.fields)).toEqual(['SAMLResponse', 'RelayState']);
    expect(Buffer.from(form.fields['SAMLResponse']!, 'base64').toString('utf8')).toBe('<x>é</x>');
    expect(form.fields['RelayState']).toBe('state & "more"');
    expect(Object.keys(postBindingForm(SP.acs, { parameter: 'SAMLRequest', xml: '<x/>' }).fields)).toEqual(['SAMLRequest']);
  });

  it('Redirect: unsigned carries no SigAlg or Signature; an endpoint with a fragment is refused', () => {
    const url = redirectBindingUrl(SP.slo, message);
    expect(url).not.toMatch(/SigAlg|Signature/);
    expect(new URL(url).searchParams.get('RelayState')).toBe('state & "more"');
    expect(inflate(url, 'SAMLResponse')).toBe('<x>é</x>');
    expect(() => redirectBindingUrl(`${SP.slo}#frag`, message)).toThrow(/fragment/);
  });
});
