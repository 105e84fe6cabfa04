import { describe, expect, it } from 'vitest';
import { writeSignedSaml11Assertion, type Saml11AssertionInput } from '../../../src/protocols/wsfed/saml11-assertion.js';
import { XmlCharacterError } from '../../../src/xml/canonical-xml.js';
import {
  DSIG, expectVerifiedAndCanonical, firstElement, otherKey, parseXml, signingKey, withoutSignature, xmlCryptoCanonical, xmlCryptoVerify, xmlsec1Verify,
} from '../../xml/signature-oracles.js';
import { entraAssertion, golden } from './saml11-fixtures.js';

const SAML = 'urn:oasis:names:tc:SAML:1.0:assertion';
const CERT = signingKey.key.certificateBase64;

function sign(input: Saml11AssertionInput = entraAssertion, algorithm: 'rsa-sha256' | 'rsa-sha1' = 'rsa-sha256'): string {
  return writeSignedSaml11Assertion(input, signingKey.key, algorithm);
}

const expectVerified = (xml: string) => expectVerifiedAndCanonical(xml, 'saml11');

function expectRejected(xml: string, certFile?: string, certPem?: string): void {
  expect(xmlsec1Verify(xml, 'saml11', certFile).ok).toBe(false);
  expect(xmlCryptoVerify(xml, 'saml11', certPem).valid).toBe(false);
}

describe('writeSignedSaml11Assertion: the §1.3 shape, byte for byte', () => {
  it('rsa-sha256: golden canonical output', () => {
    expect(sign()).toBe(golden('saml11-assertion-rsa-sha256.xml', { CERT }));
  });

  it('rsa-sha1: golden canonical output', () => {
    expect(sign(entraAssertion, 'rsa-sha1')).toBe(golden('saml11-assertion-rsa-sha1.xml', { CERT }));
  });

  it('rsa-sha256 and rsa-sha1 verify with xmlsec1 and xml-crypto, over the whole assertion', () => {
    expectVerified(sign());
    expectVerified(sign(entraAssertion, 'rsa-sha1'));
  });

  it('uses the exact namespace and algorithm URIs of §1.3/§1.5, all http://', () => {
    const xml = sign();
    const doc = parseXml(xml);
    const assertion = doc.documentElement!;
    expect([assertion.namespaceURI, assertion.localName, assertion.prefix]).toEqual([SAML, 'Assertion', 'saml']);
    expect(['MajorVersion', 'MinorVersion'].map((a) => assertion.getAttribute(a))).toEqual(['1', '1']);
    const signature = assertion.lastChild as unknown as { namespaceURI: string; localName: string };
    expect([signature.namespaceURI, signature.localName]).toEqual([DSIG, 'Signature']);
    const algorithms = Array.from({ length: doc.getElementsByTagNameNS(DSIG, 'Transform').length },
      (_, i) => doc.getElementsByTagNameNS(DSIG, 'Transform').item(i)!.getAttribute('Algorithm'));
    expect(algorithms).toEqual(['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#']);
    expect(firstElement(doc, DSIG, 'CanonicalizationMethod').getAttribute('Algorithm')).toBe('http://www.w3.org/2001/10/xml-exc-c14n#');
    expect(firstElement(doc, DSIG, 'SignatureMethod').getAttribute('Algorithm')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(firstElement(doc, DSIG, 'DigestMethod').getAttribute('Algorithm')).toBe('http://www.w3.org/2001/04/xmlenc#sha256');
    expect(firstElement(doc, DSIG, 'Reference').getAttribute('URI')).toBe(`#${entraAssertion.assertionId}`);
    expect(firstElement(doc, DSIG, 'X509Certificate').textContent).toBe(CERT);
    expect(firstElement(doc, DSIG, 'KeyInfo').prefix).toBeNull();
    expect(firstElement(doc, SAML, 'ConfirmationMethod').textContent).toBe('urn:oasis:names:tc:SAML:1.0:cm:bearer');
    expect(xml).not.toContain('https://');

    const sha1 = parseXml(sign(entraAssertion, 'rsa-sha1'));
    expect(firstElement(sha1, DSIG, 'SignatureMethod').getAttribute('Algorithm')).toBe('http://www.w3.org/2000/09/xmldsig#rsa-sha1');
    expect(firstElement(sha1, DSIG, 'DigestMethod').getAttribute('Algorithm')).toBe('http://www.w3.org/2000/09/xmldsig#sha1');
  });

  it('AttributeStatement then AuthenticationStatement, each with the identical Subject', () => {
    const doc = parseXml(sign());
    const children = Array.from({ length: doc.documentElement!.childNodes.length }, (_, i) => (doc.documentElement!.childNodes.item(i) as unknown as { localName: string }).localName);
    expect(children).toEqual(['Conditions', 'AttributeStatement', 'AuthenticationStatement', 'Signature']);
    const subjects = doc.getElementsByTagNameNS(SAML, 'Subject');
    expect(subjects.length).toBe(2);
    expect(xmlCryptoCanonical(subjects.item(0)!)).toBe(xmlCryptoCanonical(subjects.item(1)!));
  });
});

describe('writeSignedSaml11Assertion: attributes', () => {
  const values = (xml: string) => {
    const doc = parseXml(xml);
    const attributes = doc.getElementsByTagNameNS(SAML, 'Attribute');
    return Array.from({ length: attributes.length }, (_, i) => {
      const a = attributes.item(i)!;
      const v = a.getElementsByTagNameNS(SAML, 'AttributeValue');
      return [a.getAttribute('AttributeName'), a.getAttribute('AttributeNamespace'), Array.from({ length: v.length }, (_x, j) => v.item(j)!.textContent)];
    });
  };

  it('all values of one attribute go in ONE Attribute element; repeated attributes merge; valueless ones are left out', () => {
    const xml = sign({
      ...entraAssertion,
      attributes: [
        { name: 'Group', namespace: 'http://schemas.xmlsoap.org/claims', values: ['g1', 'g2'] },
        { name: 'Empty', namespace: 'http://schemas.xmlsoap.org/claims', values: [] },
        { name: 'UPN', namespace: 'http://schemas.xmlsoap.org/claims', values: ['alice@example.com'] },
        { name: 'Group', namespace: 'http://schemas.xmlsoap.org/claims', values: ['g3'] },
        { name: 'Group', namespace: 'http://example.com/other', values: ['o1'] },
      ],
    });
    expect(values(xml)).toEqual([
      ['Group', 'http://schemas.xmlsoap.org/claims', ['g1', 'g2', 'g3']],
      ['UPN', 'http://schemas.xmlsoap.org/claims', ['alice@example.com']],
      ['Group', 'http://example.com/other', ['o1']],
    ]);
    expectVerified(xml);
  });

  it('without attributes the AttributeStatement is omitted, and the assertion still verifies', () => {
    for (const attributes of [[], [{ name: 'X', namespace: 'urn:x', values: [] }]]) {
      const xml = sign({ ...entraAssertion, attributes });
      expect(xml).not.toContain('AttributeStatement');
      expect(xml).toContain('<saml:AuthenticationStatement ');
      expectVerified(xml);
    }
  });

  it('times are ISO 8601 UTC with milliseconds and Z', () => {
    const at = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 0));
    const xml = sign({ ...entraAssertion, issueInstant: at, notBefore: at, authenticationInstant: at });
    expect(xml).toContain('IssueInstant="2030-01-02T03:04:05.000Z"');
    expect(xml).toContain('NotBefore="2030-01-02T03:04:05.000Z"');
    expect(xml).toContain('AuthenticationInstant="2030-01-02T03:04:05.000Z"');
  });
});

describe('writeSignedSaml11Assertion: markup and XML special characters in values', () => {
  const tricky = [
    '<script>alert("x")</script>',
    'Tom & Jerry &amp; &#x41; &lt;',
    'say "hi" and \'bye\'',
    'end ]]> of cdata',
    'tab\tline\nreturn\rcrlf\r\n',
    'Ünïcødé — 日本語',
    '𝒜 😀 𐍈 astral',
  ];

  it('escapes them everywhere a value goes, verifies, and parses back to the same values', () => {
    for (const v of tricky) {
      const input: Saml11AssertionInput = {
        ...entraAssertion,
        issuer: `http://example.com/${v}`,
        audience: `urn:${v}`,
        nameIdentifier: { value: v, format: `urn:format:${v}` },
        attributes: [{ name: `name ${v}`, namespace: `urn:ns:${v}`, values: [v, `second ${v}`] }],
        authenticationMethod: `urn:method:${v}`,
      };
      const xml = sign(input);
      expectVerified(xml);
      const doc = parseXml(xml);
      const assertion = doc.documentElement!;
      expect(assertion.getAttribute('Issuer')).toBe(input.issuer);
      expect(firstElement(doc, SAML, 'Audience').textContent).toBe(input.audience);
      expect(firstElement(doc, SAML, 'NameIdentifier').textContent).toBe(v);
      expect(firstElement(doc, SAML, 'NameIdentifier').getAttribute('Format')).toBe(input.nameIdentifier.format);
      expect(firstElement(doc, SAML, 'Attribute').getAttribute('AttributeName')).toBe(`name ${v}`);
      expect(firstElement(doc, SAML, 'Attribute').getAttribute('AttributeNamespace')).toBe(`urn:ns:${v}`);
      expect(firstElement(doc, SAML, 'AttributeValue').textContent).toBe(v);
      expect(firstElement(doc, SAML, 'AuthenticationStatement').getAttribute('AuthenticationMethod')).toBe(input.authenticationMethod);
      expect(xml).not.toContain('<script>');
    }
  });

  it('refuses control characters XML cannot carry instead of signing an altered value', () => {
    expect(() => sign({ ...entraAssertion, nameIdentifier: { ...entraAssertion.nameIdentifier, value: 'a\u0001b' } })).toThrow(XmlCharacterError);
    expect(() => sign({ ...entraAssertion, attributes: [{ name: 'UPN', namespace: 'urn:x', values: ['\u001b[31m'] }] })).toThrow(XmlCharacterError);
    expect(() => sign({ ...entraAssertion, issuer: 'http://x/\uD800' })).toThrow(XmlCharacterError);
  });

  it('refuses an AssertionID that is not an NCName (the Reference could not point at it)', () => {
    expect(() => sign({ ...entraAssertion, assertionId: '1-starts-with-digit' })).toThrow(/NCName/);
    expect(() => sign({ ...entraAssertion, assertionId: '_a"b' })).toThrow(/NCName/);
  });
});

describe('tampered copies are rejected by xmlsec1 and xml-crypto', () => {
  const signed = sign();
  const replaceInAssertion = (from: string, to: string) => {
    expect(signed).toContain(from);
    return signed.replaceAll(from, to);
  };

  it('the untampered token verifies (the baseline for every case below)', () => {
    expectVerified(signed);
  });

  it('a changed attribute value', () => {
    expectRejected(replaceInAssertion('>alice@example.com<', '>mallory@example.com<'));
  });

  it('a changed NameIdentifier', () => {
    expectRejected(replaceInAssertion('>cBxVeG+XQECCbDIdvNJ4fg==</saml:NameIdentifier>', '>AAAAAAAAAAAAAAAAAAAAAA==</saml:NameIdentifier>'));
  });

  it('a changed Issuer', () => {
    expectRejected(replaceInAssertion('Issuer="http://example.com/adfs/services/trust/"', 'Issuer="http://evil.example/adfs/services/trust/"'));
  });

  it('a changed Audience', () => {
    expectRejected(replaceInAssertion('<saml:Audience>urn:federation:MicrosoftOnline<', '<saml:Audience>urn:evil<'));
  });

  it('whitespace inserted inside the signed assertion', () => {
    expectRejected(replaceInAssertion('</saml:Conditions>', '</saml:Conditions>\n'));
    expectRejected(replaceInAssertion('<saml:AttributeValue>alice', '<saml:AttributeValue> alice'));
  });

  it('a duplicated assertion carrying the same AssertionID', () => {
    const evil = signed.replace('>alice@example.com<', '>mallory@example.com<');
    const rstr = (first: string, second: string) => `<t:RequestedSecurityToken xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust">${first}${second}</t:RequestedSecurityToken>`;
    expectRejected(rstr(evil, signed));
    expectRejected(rstr(signed, evil));
    // One signature only, so the rejection is the duplicate ID (xml-crypto and libxml2 both refuse it).
    const unsignedEvil = withoutSignature(evil);
    expectRejected(rstr(unsignedEvil, signed));
    expectRejected(rstr(signed, unsignedEvil));
    expect(xmlCryptoVerify(rstr(unsignedEvil, signed), 'saml11').error).toMatch(/same value for the ID/);
  });

  it('a wrapped assertion: the signature still checks out, but it does not cover the assertion a consumer reads', () => {
    const evilOuter = withoutSignature(signed)
      .replace(`AssertionID="${entraAssertion.assertionId}"`, 'AssertionID="_evil"')
      .replaceAll('>cBxVeG+XQECCbDIdvNJ4fg==</saml:NameIdentifier>', '>AAAAAAAAAAAAAAAAAAAAAA==</saml:NameIdentifier>')
      .replace('</saml:Conditions>', `</saml:Conditions><saml:Advice>${signed}</saml:Advice>`);
    const result = xmlCryptoVerify(evilOuter, 'saml11');
    // Signature validity alone is not enough (xmlsec1 says OK too): the verified node must be the one read.
    expect(result.valid).toBe(true);
    expect(result.signedReferences).not.toContain(withoutSignature(evilOuter));
    expect(result.signedReferences).toEqual([withoutSignature(signed)]);
  });

  it('a swapped certificate: signed by another key, with our certificate or its own in KeyInfo', () => {
    const foreignKeyOurCert = writeSignedSaml11Assertion(entraAssertion, { ...otherKey.key, certificateBase64: CERT }, 'rsa-sha256');
    expectRejected(foreignKeyOurCert);
    const foreign = writeSignedSaml11Assertion(entraAssertion, otherKey.key, 'rsa-sha256');
    expectRejected(foreign);
    // ...and it is a real signature, valid for its own certificate: the rejection is the pinning.
    expect(xmlsec1Verify(foreign, 'saml11', otherKey.certFile).ok).toBe(true);
    expect(xmlCryptoVerify(foreign, 'saml11', otherKey.certPem).valid).toBe(true);
  });

  it('a signature value or digest changed by one character', () => {
    const flip = (s: string, marker: string) => {
      const at = s.indexOf(marker) + marker.length;
      return s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    };
    expectRejected(flip(signed, '<ds:SignatureValue>'));
    expectRejected(flip(signed, '<ds:DigestValue>'));
  });
});
