import { describe, expect, it } from 'vitest';
import { writeFederationMetadata, type FederationMetadataInput } from '../../../src/protocols/wsfed/federation-metadata.js';
import {
  DSIG, expectVerifiedAndCanonical, firstElement, otherKey, parseXml, signingKey, xmlCryptoVerify, xmlsec1Verify,
} from '../../xml/signature-oracles.js';
import { golden } from './saml11-fixtures.js';

const CERT = signingKey.key.certificateBase64;
const NEXT_CERT = otherKey.key.certificateBase64;
const NS = {
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  fed: 'http://docs.oasis-open.org/wsfed/federation/200706',
  auth: 'http://docs.oasis-open.org/wsfed/authorization/200706',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  wsa: 'http://www.w3.org/2005/08/addressing',
  mex: 'http://schemas.xmlsoap.org/ws/2004/09/mex',
};

const input: FederationMetadataInput = {
  id: '_b9fe7514-a527-4a24-86ef-8849d3ab008a',
  entityId: 'http://sts.example.test/adfs/services/trust',
  displayName: 'Example & Co <STS>',
  signingCertificates: [CERT, NEXT_CERT],
  passiveRequestorEndpoint: 'https://sts.example.test/adfs/ls/',
  claimTypes: [
    { uri: 'http://schemas.xmlsoap.org/claims/UPN', displayName: 'UPN', description: 'The user principal name (Entra ID)' },
    { uri: 'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID', displayName: 'ImmutableID', description: 'The source anchor' },
  ],
};

const expectVerified = (xml: string) => expectVerifiedAndCanonical(xml, 'metadata', ['fed']);

const children = (el: { childNodes: { length: number; item(i: number): unknown } }) =>
  Array.from({ length: el.childNodes.length }, (_, i) => el.childNodes.item(i) as { namespaceURI: string; localName: string });

describe('writeFederationMetadata: signed WS-Federation metadata (§4, AD FS 2016 shape)', () => {
  const xml = writeFederationMetadata(input, signingKey.key);

  it('golden canonical output', () => {
    expect(xml).toBe(golden('federation-metadata.xml', { CERT, NEXT_CERT }));
  });

  it('verifies with xmlsec1 and xml-crypto, the signature covering the whole EntityDescriptor, and is canonical', () => {
    expectVerified(xml);
  });

  it('EntityDescriptor ID and entityID, ds:Signature first, one STS RoleDescriptor', () => {
    const root = parseXml(xml).documentElement!;
    expect([root.namespaceURI, root.localName, root.getAttribute('ID'), root.getAttribute('entityID')])
      .toEqual([NS.md, 'EntityDescriptor', input.id, input.entityId]);
    expect(children(root).map((c) => [c.namespaceURI, c.localName])).toEqual([[DSIG, 'Signature'], [NS.md, 'RoleDescriptor']]);
    expect(firstElement(root, DSIG, 'Reference').getAttribute('URI')).toBe(`#${input.id}`);
  });

  it('xsi:type="fed:SecurityTokenServiceType" resolves on RoleDescriptor itself (readers resolve the QName there)', () => {
    const role = firstElement(parseXml(xml), NS.md, 'RoleDescriptor');
    expect(role.getAttributeNS(NS.xsi, 'type')).toBe('fed:SecurityTokenServiceType');
    expect(role.lookupNamespaceURI('fed')).toBe(NS.fed);
    expect(role.getAttribute('protocolSupportEnumeration')).toBe('http://schemas.xmlsoap.org/ws/2005/02/trust http://docs.oasis-open.org/wsfed/federation/200706');
    expect(role.getAttribute('ServiceDisplayName')).toBe('Example & Co <STS>');
  });

  it('one KeyDescriptor use="signing" per certificate, current then next, then the fed children in schema order', () => {
    const role = firstElement(parseXml(xml), NS.md, 'RoleDescriptor');
    expect(children(role).map((c) => c.localName)).toEqual(['KeyDescriptor', 'KeyDescriptor', 'TokenTypesOffered', 'ClaimTypesOffered', 'PassiveRequestorEndpoint']);
    const keys = role.getElementsByTagNameNS(NS.md, 'KeyDescriptor');
    expect([0, 1].map((i) => keys.item(i)!.getAttribute('use'))).toEqual(['signing', 'signing']);
    expect([0, 1].map((i) => firstElement(keys.item(i)!, DSIG, 'X509Certificate').textContent)).toEqual([CERT, NEXT_CERT]);
    expect(firstElement(role, NS.fed, 'TokenType').getAttribute('Uri')).toBe('urn:oasis:names:tc:SAML:1.0:assertion');
    const claims = role.getElementsByTagNameNS(NS.auth, 'ClaimType');
    expect(claims.length).toBe(2);
    expect([claims.item(0)!.getAttribute('Uri'), claims.item(0)!.getAttribute('Optional')]).toEqual(['http://schemas.xmlsoap.org/claims/UPN', 'true']);
    expect(firstElement(claims.item(1)!, NS.auth, 'DisplayName').textContent).toBe('ImmutableID');
    expect(firstElement(claims.item(1)!, NS.auth, 'Description').textContent).toBe('The source anchor');
    const passive = firstElement(role, NS.fed, 'PassiveRequestorEndpoint');
    expect(firstElement(firstElement(passive, NS.wsa, 'EndpointReference'), NS.wsa, 'Address').textContent).toBe('https://sts.example.test/adfs/ls/');
    expect(role.getElementsByTagNameNS(NS.fed, 'SecurityTokenServiceEndpoint').length).toBe(0);
  });

  it('SecurityTokenServiceEndpoint (with its MEX reference) only when given, before PassiveRequestorEndpoint; validUntil when given', () => {
    const withSts = writeFederationMetadata({
      ...input,
      securityTokenServiceEndpoint: 'https://sts.example.test/adfs/services/trust/2005/usernamemixed',
      metadataExchangeEndpoint: 'https://sts.example.test/adfs/services/trust/mex',
      validUntil: new Date('2030-01-01T00:00:00Z'),
    }, signingKey.key);
    expectVerified(withSts);
    const doc = parseXml(withSts);
    expect(doc.documentElement!.getAttribute('validUntil')).toBe('2030-01-01T00:00:00.000Z');
    const role = firstElement(doc, NS.md, 'RoleDescriptor');
    expect(children(role).map((c) => c.localName).slice(-2)).toEqual(['SecurityTokenServiceEndpoint', 'PassiveRequestorEndpoint']);
    expect(role.getAttribute('protocolSupportEnumeration')).toBe('http://docs.oasis-open.org/ws-sx/ws-trust/200512 http://schemas.xmlsoap.org/ws/2005/02/trust http://docs.oasis-open.org/wsfed/federation/200706');
    const sts = firstElement(firstElement(role, NS.fed, 'SecurityTokenServiceEndpoint'), NS.wsa, 'EndpointReference');
    expect(firstElement(sts, NS.wsa, 'Address').textContent).toBe('https://sts.example.test/adfs/services/trust/2005/usernamemixed');
    const section = firstElement(sts, NS.mex, 'MetadataSection');
    expect(section.getAttribute('Dialect')).toBe(NS.mex);
    expect(firstElement(firstElement(section, NS.mex, 'MetadataReference'), NS.wsa, 'Address').textContent).toBe('https://sts.example.test/adfs/services/trust/mex');
  });

  it('with WS-Trust, golden: fed:SecurityTokenServiceEndpoint after ClaimTypesOffered, its EndpointReference naming MEX as AD FS\'s does (§4); xmlsec1 verifies it', () => {
    const withWsTrust = writeFederationMetadata({
      ...input,
      securityTokenServiceEndpoint: 'https://sts.example.test/adfs/services/trust/2005/usernamemixed',
      metadataExchangeEndpoint: 'https://sts.example.test/adfs/services/trust/mex',
    }, signingKey.key);
    expect(withWsTrust).toBe(golden('federation-metadata-wstrust.xml', { CERT, NEXT_CERT }));
    expectVerified(withWsTrust);
    // The golden differs from the one without WS-Trust only there (and in the digest and signature over it).
    const unsigned = (x: string) => x.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '');
    expect(unsigned(withWsTrust).replace(/<fed:SecurityTokenServiceEndpoint>.*<\/fed:SecurityTokenServiceEndpoint>/, '').replace('http://docs.oasis-open.org/ws-sx/ws-trust/200512 ', ''))
      .toBe(unsigned(xml));
  });

  it('rsa-sha1 verifies too; without an id a fresh "_" + UUID is used', () => {
    const sha1 = writeFederationMetadata({ ...input, signatureAlgorithm: 'rsa-sha1' }, signingKey.key);
    expectVerified(sha1);
    const { id: _unused, ...withoutId } = input;
    const a = parseXml(writeFederationMetadata(withoutId, signingKey.key)).documentElement!.getAttribute('ID');
    const b = parseXml(writeFederationMetadata(withoutId, signingKey.key)).documentElement!.getAttribute('ID');
    expect(a).toMatch(/^_[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
  });

  it('a signing certificate swapped in (a forged rollover), or a changed endpoint, is rejected', () => {
    for (const tampered of [
      xml.replace(`<X509Certificate>${NEXT_CERT}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>`, `<X509Certificate>${CERT}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>`),
      xml.replace('https://sts.example.test/adfs/ls/', 'https://evil.example/adfs/ls/'),
      xml.replace('xsi:type="fed:SecurityTokenServiceType"', 'xsi:type="fed:ApplicationServiceType"'),
    ]) {
      expect(tampered).not.toBe(xml);
      expect(xmlsec1Verify(tampered, 'metadata').ok).toBe(false);
      expect(xmlCryptoVerify(tampered, 'metadata').valid).toBe(false);
    }
    expect(xmlCryptoVerify(xml, 'metadata', otherKey.certPem).valid).toBe(false);
  });

  it('with samlIdp: the IDPSSODescriptor follows the STS RoleDescriptor, with the same certificates, still one verifying signature', () => {
    const withIdp = writeFederationMetadata({
      ...input,
      samlIdp: { singleSignOnUrl: 'https://sts.example.test/adfs/ls/', singleLogoutUrl: 'https://sts.example.test/adfs/ls/', attributes: [{ name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', friendlyName: 'UPN' }] },
    }, signingKey.key);
    expectVerified(withIdp);
    const root = parseXml(withIdp).documentElement!;
    expect(children(root).map((c) => c.localName)).toEqual(['Signature', 'RoleDescriptor', 'IDPSSODescriptor']);
    const idp = firstElement(root, NS.md, 'IDPSSODescriptor');
    const keys = idp.getElementsByTagNameNS(NS.md, 'KeyDescriptor');
    expect([0, 1].map((i) => firstElement(keys.item(i)!, DSIG, 'X509Certificate').textContent)).toEqual([CERT, NEXT_CERT]);
    expect(xmlsec1Verify(withIdp.replace('FriendlyName="UPN"', 'FriendlyName="E-Mail"'), 'metadata').ok).toBe(false);
  });

  it('needs at least one signing certificate', () => {
    expect(() => writeFederationMetadata({ ...input, signingCertificates: [] }, signingKey.key)).toThrow(/at least one/);
  });
});
