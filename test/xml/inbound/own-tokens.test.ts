/**
 * What fedgate itself signs (SAML 1.1 assertions, federation metadata) goes through the inbound
 * path too: WS-Trust and metadata exchange between fedgate nodes, and a check that the outbound
 * writer and the inbound verifier agree about exclusive canonical form.
 */
import { describe, expect, it } from 'vitest';
import { writeFederationMetadata } from '../../../src/protocols/wsfed/federation-metadata.js';
import { writeSignedSaml11Assertion } from '../../../src/protocols/wsfed/saml11-assertion.js';
import { parseXml } from '../../../src/xml/parse-xml.js';
import { DEFAULT_DIGEST_ALGORITHMS, DEFAULT_SIGNATURE_ALGORITHMS, verifySignedElement, XMLDSIG_ALGORITHMS } from '../../../src/xml/verify-signed.js';
import { entraAssertion } from '../../protocols/wsfed/saml11-fixtures.js';
import { otherKey, signingKey } from '../signature-oracles.js';
import { rejectionOf } from './rejection.js';

const SAML11 = { ns: 'urn:oasis:names:tc:SAML:1.0:assertion', localName: 'Assertion' };
const ENTITY_DESCRIPTOR = { ns: 'urn:oasis:names:tc:SAML:2.0:metadata', localName: 'EntityDescriptor' };
const TRUST = {
  trustedCertificates: [signingKey.key.certificateBase64],
  allowedSignatureAlgorithms: DEFAULT_SIGNATURE_ALGORITHMS,
  allowedDigestAlgorithms: DEFAULT_DIGEST_ALGORITHMS,
};

describe('verifySignedElement on tokens fedgate writes', () => {
  it('a SAML 1.1 assertion (AssertionID): the signed copy is byte for byte what was written, minus the Signature', () => {
    const xml = writeSignedSaml11Assertion(entraAssertion, signingKey.key, 'rsa-sha256');
    const result = verifySignedElement(parseXml(xml), { ...TRUST, idAttribute: 'AssertionID', expectedRootNames: [SAML11] });
    expect(result.id).toBe(entraAssertion.assertionId);
    const start = xml.indexOf('<ds:Signature');
    const end = xml.indexOf('</ds:Signature>') + '</ds:Signature>'.length;
    expect(result.canonicalXml).toBe(xml.slice(0, start) + xml.slice(end));
  });

  it('a SAML 1.1 assertion checked as an ID-signed element -> missing-id; signed with SHA-1 -> refused by default', () => {
    const xml = writeSignedSaml11Assertion(entraAssertion, signingKey.key, 'rsa-sha256');
    expect(rejectionOf(() => verifySignedElement(parseXml(xml), { ...TRUST, idAttribute: 'ID' }))).toBe('missing-id');
    const sha1 = writeSignedSaml11Assertion(entraAssertion, signingKey.key, 'rsa-sha1');
    expect(rejectionOf(() => verifySignedElement(parseXml(sha1), { ...TRUST, idAttribute: 'AssertionID' }))).toBe('signature-algorithm-not-allowed');
    expect(verifySignedElement(parseXml(sha1), {
      ...TRUST, idAttribute: 'AssertionID',
      allowedSignatureAlgorithms: [XMLDSIG_ALGORITHMS.rsaSha1], allowedDigestAlgorithms: [XMLDSIG_ALGORITHMS.sha1],
    }).signatureAlgorithm).toBe(XMLDSIG_ALGORITHMS.rsaSha1);
  });

  it('federation metadata (InclusiveNamespaces "fed", KeyInfo in the default namespace) verifies; a foreign trust list does not', () => {
    const xml = writeFederationMetadata({
      id: '_b9fe7514-a527-4a24-86ef-8849d3ab008a',
      entityId: 'http://sts.example.test/adfs/services/trust',
      displayName: 'Example & Co <STS>',
      signingCertificates: [signingKey.key.certificateBase64],
      passiveRequestorEndpoint: 'https://sts.example.test/adfs/ls/',
      claimTypes: [{ uri: 'http://schemas.xmlsoap.org/claims/UPN', displayName: 'UPN', description: 'The user principal name' }],
    }, signingKey.key);
    const result = verifySignedElement(parseXml(xml), { ...TRUST, idAttribute: 'ID', expectedRootNames: [ENTITY_DESCRIPTOR] });
    expect(result.element.getAttribute('entityID')).toBe('http://sts.example.test/adfs/services/trust');
    expect(rejectionOf(() => verifySignedElement(parseXml(xml), { ...TRUST, idAttribute: 'ID', trustedCertificates: [otherKey.certPem] })))
      .toBe('untrusted-key');
  });
});
