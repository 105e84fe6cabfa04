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

const HERE = dirname(fileURLToPath(import.meta.url));
const XML_FIXTURES = join(HERE, '../../xml/fixtures');
export const FIXTURES = join(HERE, 'fixtures');

export interface PemPair {
  readonly keyPem: string;
  readonly certPem: string;
  readonly certFile: string;
  /** The certificate as the configuration keeps it (base64 DER). */
  readonly certBase64: string;
}

function pair(name: string): PemPair {
  const certFile = join(XML_FIXTURES, `${name}.cert.pem`);
  const certPem = readFileSync(certFile, 'utf8');
  return {
    keyPem: readFileSync(join(XML_FIXTURES, `${name}.test-key.pem`), 'utf8'),
    certPem,
    certFile,
    certBase64: certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, ''),
  };
}

/** The SP's (or its federation's) key, and an unrelated one. */
export const spKey = pair('token-signing');
export const otherSpKey = pair('other-signing');

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
