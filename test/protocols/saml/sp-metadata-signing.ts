/**
 * Keys and an enveloped signer for SP metadata tests: the fixture keys of test/xml/fixtures and
 * xml-crypto (not our own signer), the Signature first inside the signed root as metadata signers
 * place it. Test code only.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignedXml } from 'xml-crypto';
import { XMLDSIG_ALGORITHMS } from '../../../src/xml/verify-signed.js';
import { otherKey, signingKey, type TestKey } from '../../xml/signature-oracles.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export interface PemPair {
  readonly keyPem: string;
  readonly certPem: string;
  readonly certFile: string;
  /** The certificate as the configuration keeps it (base64 DER). */
  readonly certBase64: string;
}

/** node-saml and xml-crypto take PEM text; the configuration keeps base64 DER. */
const pems = (key: TestKey): PemPair => ({
  keyPem: key.key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  certPem: key.certPem,
  certFile: key.certFile,
  certBase64: key.key.certificateBase64,
});

/** The SP's (or its federation's) key, and an unrelated one. */
export const spKey = pems(signingKey);
export const otherSpKey = pems(otherKey);

export const fixture = (name: string): string => readFileSync(join(FIXTURES, `sp-metadata-${name}.xml`), 'utf8');

/** Signs the root element (which must carry an ID) with RSA-SHA256 / SHA-256, exc-c14n. */
export function signMetadata(xml: string, key: PemPair = spKey, signatureAlgorithm: string = XMLDSIG_ALGORITHMS.rsaSha256): string {
  const signer = new SignedXml({ privateKey: key.keyPem, publicCert: key.certPem, signatureAlgorithm, canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#' });
  signer.addReference({
    xpath: '/*',
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: XMLDSIG_ALGORITHMS.sha256,
  });
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'prepend' } });
  return signer.getSignedXml();
}
