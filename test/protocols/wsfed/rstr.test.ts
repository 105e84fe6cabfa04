import { describe, expect, it } from 'vitest';
import { writeRstr } from '../../../src/protocols/wsfed/rstr.js';
import { writeSignedSaml11Assertion } from '../../../src/protocols/wsfed/saml11-assertion.js';
import {
  firstElement, parseXml, signingKey, withoutSignature, xmlCryptoCanonical, xmlCryptoVerify, xmlsec1Verify,
} from '../../xml/signature-oracles.js';
import { ENTRA_AUDIENCE, entraAssertion, EXPIRES, golden, ISSUED } from './saml11-fixtures.js';

const assertion = writeSignedSaml11Assertion(entraAssertion, signingKey.key, 'rsa-sha256');
const rstr = writeRstr({ created: ISSUED, expires: EXPIRES, appliesTo: ENTRA_AUDIENCE, assertion });

const NS = {
  t: 'http://schemas.xmlsoap.org/ws/2005/02/trust',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wsp: 'http://schemas.xmlsoap.org/ws/2004/09/policy',
  wsa: 'http://www.w3.org/2005/08/addressing',
  saml: 'urn:oasis:names:tc:SAML:1.0:assertion',
};

describe('writeRstr: the bare WS-Trust Feb-2005 RSTR of §1.3', () => {
  it('golden canonical output, the assertion embedded byte for byte with no whitespace around it', () => {
    expect(rstr).toBe(golden('rstr.xml', { ASSERTION: assertion }));
    expect(rstr).toContain(`<t:RequestedSecurityToken>${assertion}</t:RequestedSecurityToken>`);
  });

  it('is canonical as a whole (xml-crypto exclusive c14n of the parsed RSTR is the RSTR)', () => {
    expect(xmlCryptoCanonical(parseXml(rstr).documentElement as never)).toBe(rstr);
  });

  it('uses the exact namespace URIs and values of §1.3', () => {
    const doc = parseXml(rstr);
    const root = doc.documentElement!;
    expect([root.namespaceURI, root.localName]).toEqual([NS.t, 'RequestSecurityTokenResponse']);
    expect(firstElement(doc, NS.wsu, 'Created').textContent).toBe('2023-09-18T08:25:25.982Z');
    expect(firstElement(doc, NS.wsu, 'Expires').textContent).toBe('2023-09-18T09:25:25.982Z');
    expect(firstElement(firstElement(firstElement(doc, NS.wsp, 'AppliesTo'), NS.wsa, 'EndpointReference'), NS.wsa, 'Address').textContent)
      .toBe('urn:federation:MicrosoftOnline');
    expect(firstElement(firstElement(doc, NS.t, 'RequestedSecurityToken'), NS.saml, 'Assertion').getAttribute('AssertionID')).toBe(entraAssertion.assertionId);
    expect(firstElement(doc, NS.t, 'TokenType').textContent).toBe('urn:oasis:names:tc:SAML:1.0:assertion');
    expect(firstElement(doc, NS.t, 'RequestType').textContent).toBe('http://schemas.xmlsoap.org/ws/2005/02/trust/Issue');
    expect(firstElement(doc, NS.t, 'KeyType').textContent).toBe('http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey');
    expect(doc.getElementsByTagNameNS(NS.t, 'RequestSecurityTokenResponseCollection').length).toBe(0);
  });

  it('the assertion verifies in place inside the RSTR (xmlsec1 and xml-crypto)', () => {
    const xmlsec = xmlsec1Verify(rstr, 'saml11');
    expect(xmlsec.ok, xmlsec.output).toBe(true);
    const result = xmlCryptoVerify(rstr, 'saml11');
    expect(result.valid, result.error).toBe(true);
    expect(result.signedReferences).toEqual([withoutSignature(assertion)]);
  });

  it('the assertion verifies when extracted from the RSTR', () => {
    const start = rstr.indexOf('<saml:Assertion ');
    const end = rstr.indexOf('</saml:Assertion>') + '</saml:Assertion>'.length;
    const extracted = rstr.slice(start, end);
    expect(extracted).toBe(assertion);
    expect(xmlsec1Verify(extracted, 'saml11').ok).toBe(true);
    expect(xmlCryptoVerify(extracted, 'saml11').valid).toBe(true);
    // ...and re-serialised from the parsed RSTR, as a consumer that pulls the node out would.
    const node = firstElement(parseXml(rstr), NS.saml, 'Assertion');
    expect(xmlCryptoCanonical(node)).toBe(assertion);
  });

  it('escapes AppliesTo and keeps the RSTR canonical', () => {
    const odd = writeRstr({ created: ISSUED, expires: EXPIRES, appliesTo: 'urn:a&b<c>"d"', assertion });
    expect(odd).toContain('<wsa:Address>urn:a&amp;b&lt;c&gt;"d"</wsa:Address>');
    expect(xmlCryptoCanonical(parseXml(odd).documentElement as never)).toBe(odd);
    expect(xmlsec1Verify(odd, 'saml11').ok).toBe(true);
  });

  it('tampering with the embedded assertion inside the RSTR is detected in place', () => {
    const tampered = rstr.replace('>alice@example.com<', '>mallory@example.com<');
    expect(xmlsec1Verify(tampered, 'saml11').ok).toBe(false);
    expect(xmlCryptoVerify(tampered, 'saml11').valid).toBe(false);
  });

  it('refuses to embed anything but a signed assertion from writeSignedSaml11Assertion', () => {
    for (const bad of ['', '<x/>', '</t:RequestedSecurityToken><evil/>', assertion.replace('</ds:Signature>', ''), `${assertion}<evil/>`]) {
      expect(() => writeRstr({ created: ISSUED, expires: EXPIRES, appliesTo: ENTRA_AUDIENCE, assertion: bad })).toThrow(/not a signed SAML 1.1 assertion/);
    }
  });
});
