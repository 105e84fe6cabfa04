import { generateServiceProviderMetadata } from '@node-saml/node-saml';
import { DOMParser, XMLSerializer, type Element } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { readSpMetadata, SpMetadataError, type ReadSpMetadataOptions } from '../../../src/protocols/saml/sp-metadata.js';
import { XmlRejectedError } from '../../../src/xml/parse-xml.js';
import { XMLDSIG_ALGORITHMS } from '../../../src/xml/verify-signed.js';
import { xmlsec1Verify } from '../../xml/signature-oracles.js';
import { fixture, otherSpKey, signMetadata, spKey } from './sp-metadata-signing.js';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const minimal = fixture('minimal');

/** The SpMetadataError message, or a failure. */
function refusal(xml: string, options: ReadSpMetadataOptions = {}): SpMetadataError {
  try {
    readSpMetadata(xml, options);
  } catch (err) {
    if (err instanceof SpMetadataError) return err;
    throw err;
  }
  throw new Error('the metadata was accepted');
}

const xmlRejection = (err: SpMetadataError) => (err.cause instanceof XmlRejectedError ? err.cause.reason : undefined);

/** node-saml's SP metadata: signing and encryption certificates, a logout URL, optionally signed. */
function nodeSamlMetadata(signMetadata = false): string {
  return generateServiceProviderMetadata({
    issuer: 'https://sp.example.com/metadata',
    callbackUrl: 'https://sp.example.com/login/callback',
    logoutCallbackUrl: 'https://sp.example.com/logout/callback',
    privateKey: spKey.keyPem,
    publicCerts: spKey.certPem,
    decryptionPvk: otherSpKey.keyPem,
    decryptionCert: otherSpKey.certPem,
    signMetadata,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
  });
}

describe('SP metadata', () => {
  it('reads what node-saml generates: ACS, logout, signing and encryption certificates, AuthnRequestsSigned', () => {
    const md = readSpMetadata(nodeSamlMetadata());
    expect(md).toEqual({
      entityId: 'https://sp.example.com/metadata',
      validUntil: undefined,
      assertionConsumerServices: [{ url: 'https://sp.example.com/login/callback', index: 1, isDefault: true }],
      singleLogout: { binding: 'post', url: 'https://sp.example.com/logout/callback', responseUrl: 'https://sp.example.com/logout/callback' },
      signingCertificates: [spKey.certBase64],
      encryptionCertificates: [otherSpKey.certBase64],
      authnRequestsSigned: true,
      wantAssertionsSigned: true,
      nameIdFormats: ['emailAddress'], // node-saml's default identifierFormat
    });
  });

  it('reads Shibboleth-style metadata: POST endpoints only, the default by saml-metadata §2.2.3, Redirect logout, a key of both uses', () => {
    const md = readSpMetadata(fixture('shibboleth'));
    expect(md.entityId).toBe('https://wiki.example.org/shibboleth');
    // index 2 says isDefault="false", so the first POST endpoint without isDefault (index 5) is the default.
    expect(md.assertionConsumerServices).toEqual([
      { url: 'https://wiki.example.org/Shibboleth.sso/SAML2/POST-alt', index: 5, isDefault: true },
      { url: 'https://wiki.example.org/Shibboleth.sso/SAML2/POST', index: 2, isDefault: false },
    ]);
    expect(md.singleLogout).toEqual({
      binding: 'redirect',
      url: 'https://wiki.example.org/Shibboleth.sso/SLO/Redirect',
      responseUrl: 'https://wiki.example.org/Shibboleth.sso/SLO/Response',
    });
    expect(md.signingCertificates).toEqual([otherSpKey.certBase64]);
    expect(md.encryptionCertificates).toEqual([otherSpKey.certBase64]);
    expect(md.authnRequestsSigned).toBeUndefined();
    // The Shibboleth-specific format is not one fedgate knows: left out, not refused.
    expect(md.nameIdFormats).toEqual(['transient', 'persistent']);
  });

  it('default ACS: isDefault="true" first; all isDefault="false": the first', () => {
    const acs = (attrs: string[]) => minimal.replace(/<md:AssertionConsumerService[^>]*\/>/, attrs.map((a, i) =>
      `<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://app.example.com/acs${i}" index="${i}" ${a}/>`).join(''));
    expect(readSpMetadata(acs(['', 'isDefault="true"', ''])).assertionConsumerServices.map((a) => a.index)).toEqual([1, 0, 2]);
    expect(readSpMetadata(acs(['isDefault="false"', 'isDefault="0"'])).assertionConsumerServices.map((a) => [a.index, a.isDefault])).toEqual([[0, true], [1, false]]);
    expect(readSpMetadata(acs(['isDefault="false"', '', 'isDefault="true"'])).assertionConsumerServices.map((a) => a.index)).toEqual([2, 0, 1]);
    expect(readSpMetadata(acs(['isDefault="false"', '', ''])).assertionConsumerServices.map((a) => a.index)).toEqual([1, 0, 2]);
  });

  it('takes the configured entity out of an EntitiesDescriptor, nested groups and their validUntil included', () => {
    const xml = fixture('entities');
    const b = readSpMetadata(xml, { entityId: 'https://app-b.example.com/metadata' });
    expect(b.assertionConsumerServices).toEqual([{ url: 'https://app-b.example.com/sso/acs', index: 7, isDefault: true }]);
    expect(b.nameIdFormats).toEqual(['emailAddress']);
    expect(b.validUntil).toBe(Date.parse('2124-06-30T12:00:00Z'));
    const a = readSpMetadata(xml, { entityId: 'https://app-a.example.com/saml' });
    expect(a.authnRequestsSigned).toBe(true);
    expect(a.signingCertificates).toEqual([otherSpKey.certBase64]);
    expect(a.encryptionCertificates).toEqual([]);
    expect(a.validUntil).toBe(Date.parse('2125-01-01T00:00:00Z'));

    expect(refusal(xml).message).toMatch(/EntitiesDescriptor: configure the SP's identifier/);
    expect(refusal(xml, { entityId: 'https://nobody.example.com' }).message).toMatch(/no EntityDescriptor for https:\/\/nobody\.example\.com/);
    expect(refusal(xml, { entityId: 'https://idp.example.net/idp/shibboleth' }).message).toMatch(/no SPSSODescriptor supporting/);
  });

  it('refuses an entityID other than the configured identifier', () => {
    expect(refusal(minimal, { entityId: 'https://other.example.com' }).message)
      .toBe('the metadata is for entityID https://app.example.com/saml, not the configured identifier https://other.example.com');
  });

  it('refuses expired metadata, and validUntil that is not a date', () => {
    const at = (value: string) => minimal.replace('ID="_minimal-sp"', `ID="_minimal-sp" validUntil="${value}"`);
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(readSpMetadata(at('2030-01-02T00:00:00Z'), { now }).validUntil).toBe(Date.parse('2030-01-02T00:00:00Z'));
    expect(refusal(at('2029-12-31T23:59:59Z'), { now }).message).toMatch(/expired at 2029-12-31T23:59:59Z/);
    expect(refusal(at('next week'), { now }).message).toMatch(/not an xs:dateTime/);
    // The SPSSODescriptor's own validUntil counts too.
    const role = minimal.replace('<md:SPSSODescriptor ', '<md:SPSSODescriptor validUntil="2020-01-01T00:00:00Z" ');
    expect(refusal(role, { now }).message).toMatch(/expired .*SPSSODescriptor/);
  });

  it('refuses metadata without a SAML 2.0 SPSSODescriptor', () => {
    expect(refusal(minimal.replace(/SPSSODescriptor/g, 'IDPSSODescriptor')).message).toMatch(/no SPSSODescriptor supporting urn:oasis:names:tc:SAML:2.0:protocol/);
    expect(refusal(minimal.replace('urn:oasis:names:tc:SAML:2.0:protocol"', 'urn:oasis:names:tc:SAML:1.1:protocol"')).message).toMatch(/no SPSSODescriptor/);
    expect(refusal('<root xmlns="urn:example"/>').message).toMatch(/root element is \{urn:example\}root/);
  });

  it('refuses metadata whose only ACS uses the Artifact binding', () => {
    expect(refusal(minimal.replace('bindings:HTTP-POST', 'bindings:HTTP-Artifact')).message)
      .toBe('the SPSSODescriptor has no AssertionConsumerService with the HTTP-POST binding (the only one fedgate sends)');
  });

  it('refuses a bad index, or one index twice', () => {
    expect(refusal(minimal.replace('index="0"', 'index="-1"')).message).toMatch(/index "-1"/);
    expect(refusal(minimal.replace(' index="0"', '')).message).toMatch(/index ""/);
    const twice = minimal.replace(/(<md:AssertionConsumerService[^>]*\/>)/, '$1$1');
    expect(refusal(twice).message).toBe('two AssertionConsumerService elements have index 0');
  });

  it('refuses a certificate that is not X.509', () => {
    const withKey = (cert: string) => minimal.replace('<md:AssertionConsumerService', `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:AssertionConsumerService`);
    expect(readSpMetadata(withKey(`\n  ${spKey.certBase64.replace(/(.{64})/g, '$1\n  ')}\n`)).signingCertificates).toEqual([spKey.certBase64]);
    expect(refusal(withKey('MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA')).message).toMatch(/not a valid X\.509 certificate/);
    expect(refusal(withKey('not base64!')).message).toMatch(/not a valid X\.509 certificate/);
  });

  it('refuses endpoint URLs that are not http(s)', () => {
    for (const url of ['javascript:alert(1)', 'data:text/html,hi', 'https:app.example.com/acs', ' https://app.example.com/acs', '/saml/acs']) {
      expect(refusal(minimal.replace('https://app.example.com/saml/acs', url)).message, url).toMatch(/Location .* is not an http\(s\) URL/);
    }
    const slo = minimal.replace('<md:AssertionConsumerService', '<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://app.example.com/slo" ResponseLocation="javascript:alert(1)"/><md:AssertionConsumerService');
    expect(refusal(slo).message).toMatch(/SingleLogoutService ResponseLocation "javascript:alert\(1\)" is not an http\(s\) URL/);
  });

  it('refuses a DOCTYPE, entities (XXE) and oversized input through the hardened parser', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE md [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${minimal.replace(/^<\?xml[^>]*>\s*/, '').replace('https://app.example.com/saml/acs', '&xxe;')}`;
    expect(xmlRejection(refusal(xxe))).toBe('entity');
    expect(xmlRejection(refusal(`<!DOCTYPE md>${minimal.replace(/^<\?xml[^>]*>\s*/, '')}`))).toBe('doctype');
    const big = minimal.replace('</md:EntityDescriptor>', `<md:Extensions>${' '.repeat(1024 * 1024)}</md:Extensions></md:EntityDescriptor>`);
    expect(xmlRejection(refusal(big))).toBe('too-large');
    // Real aggregates run to hundreds of KiB: more than the parser's default for protocol messages.
    const large = minimal.replace('</md:EntityDescriptor>', `<md:Extensions>${' '.repeat(600 * 1024)}</md:Extensions></md:EntityDescriptor>`);
    expect(readSpMetadata(large).entityId).toBe('https://app.example.com/saml');
  });
});

describe('signed SP metadata', () => {
  const signed = nodeSamlMetadata(true);
  const trusting = { signingCertificate: spKey.certBase64 };

  it('is accepted with the signer\'s certificate (as xmlsec1 agrees), and read from the signed element', () => {
    expect(xmlsec1Verify(signed, 'metadata', spKey.certFile).ok).toBe(true);
    expect(readSpMetadata(signed, trusting).assertionConsumerServices).toEqual([{ url: 'https://sp.example.com/login/callback', index: 1, isDefault: true }]);
    // An EntitiesDescriptor signed as a whole, by xml-crypto.
    const aggregate = signMetadata(fixture('entities').replace('Name="urn:example:federation"', 'ID="_aggregate" Name="urn:example:federation"'));
    expect(readSpMetadata(aggregate, { ...trusting, entityId: 'https://app-a.example.com/saml' }).entityId).toBe('https://app-a.example.com/saml');
  });

  it('is refused when signed by another key, unsigned, or signed with SHA-1', () => {
    expect(xmlRejection(refusal(signed, { signingCertificate: otherSpKey.certBase64 }))).toBe('signature-invalid');
    expect(refusal(signed, { signingCertificate: otherSpKey.certBase64 }).message).toMatch(/must be signed by the configured metadataSigningCertificate/);
    expect(xmlRejection(refusal(nodeSamlMetadata(false), trusting))).toBe('signature-missing');
    const sha1 = signMetadata(minimal, spKey, XMLDSIG_ALGORITHMS.rsaSha1);
    expect(xmlRejection(refusal(sha1, trusting))).toBe('signature-algorithm-not-allowed');
  });

  it('is refused when an ACS is altered inside the signed element', () => {
    const altered = signed.replace('https://sp.example.com/login/callback', 'https://evil.example.net/acs');
    expect(xmlRejection(refusal(altered, trusting))).toBe('digest-mismatch');
  });

  it('refuses wrapping: a second, unsigned EntityDescriptor beside or around the signed one', () => {
    const doc = new DOMParser().parseFromString(signed, 'text/xml');
    const original = doc.documentElement as Element;
    const evil = original.cloneNode(true) as Element;
    evil.setAttribute('ID', '_evil');
    for (let n = evil.firstChild; n; n = n.nextSibling) if ((n as Element).localName === 'Signature') { evil.removeChild(n); break; }
    const evilXml = new XMLSerializer().serializeToString(evil).replace('https://sp.example.com/login/callback', 'https://evil.example.net/acs');
    const signedXml = new XMLSerializer().serializeToString(original);

    // Beside: an aggregate holding the attacker's entity and the signed one, both for the same entityID.
    const beside = `<md:EntitiesDescriptor xmlns:md="${MD}" ID="_wrapper">${evilXml}${signedXml}</md:EntitiesDescriptor>`;
    expect(xmlRejection(refusal(beside, { ...trusting, entityId: 'https://sp.example.com/metadata' }))).toBe('signature-missing');
    // Around: the signed entity hidden in the Extensions of the attacker's.
    const around = evilXml.replace(/(<SPSSODescriptor)/, `<Extensions>${signedXml}</Extensions>$1`);
    expect(around).toContain('<Extensions>');
    expect(xmlRejection(refusal(around, trusting))).toBe('signature-missing');
    // Unsigned, either is just refused; without a signing certificate the aggregate is an ambiguity.
    expect(refusal(beside, { entityId: 'https://sp.example.com/metadata' }).message).toMatch(/holds 2 EntityDescriptors/);
  });
});
