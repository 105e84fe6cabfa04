/**
 * The samples the inbound tests call genuine are genuine for an independent verifier too (xmlsec1:
 * libxml2 + OpenSSL, certificate pinned), and the tampered ones are not: the verdicts of
 * verifySignedElement rest on real signatures, not on quirks shared with xml-crypto.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { XMLDSIG_ALGORITHMS } from '../../../src/xml/verify-signed.js';
import { signingKey } from '../signature-oracles.js';
import { responseTemplate, responseWithSignedAssertion, SAML, SAMLP, sign, signedAuthnRequest } from './signed-samples.js';

function xmlsec1Accepts(xml: string, idElement: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'fedgate-inbound-'));
  try {
    const file = join(dir, 'signed.xml');
    writeFileSync(file, xml, 'utf8');
    execFileSync('xmlsec1', ['--verify', '--id-attr:ID', idElement, '--pubkey-cert-pem', signingKey.certFile, file], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('xmlsec1 on the inbound samples', () => {
  it('accepts the signed AuthnRequest (SHA-256 and SHA-1) and the Response with a signed Assertion', () => {
    expect(xmlsec1Accepts(signedAuthnRequest(), `${SAMLP}:AuthnRequest`)).toBe(true);
    expect(xmlsec1Accepts(signedAuthnRequest({ signatureAlgorithm: XMLDSIG_ALGORITHMS.rsaSha1, digestAlgorithm: XMLDSIG_ALGORITHMS.sha1 }), `${SAMLP}:AuthnRequest`)).toBe(true);
    expect(xmlsec1Accepts(responseWithSignedAssertion(), `${SAML}:Assertion`)).toBe(true);
  });

  it('refuses the tampered AuthnRequest', () => {
    expect(xmlsec1Accepts(signedAuthnRequest().replace('https://sp.example.test/acs', 'https://evil.example/acs'), `${SAMLP}:AuthnRequest`)).toBe(false);
  });

  it('accepts a comment injected into the signed NameID: the attack keeps a valid signature, so only reading the canonical form defeats it', () => {
    const signed = sign(responseTemplate.replace('alice@example.test', 'alice@example.test.evil.example'), { localName: 'Assertion' });
    const injected = signed.replace('alice@example.test.evil.example', 'alice@example.test<!---->.evil.example');
    expect(injected).not.toBe(signed);
    expect(xmlsec1Accepts(injected, `${SAML}:Assertion`)).toBe(true);
  });
});
