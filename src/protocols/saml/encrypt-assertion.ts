import { X509Certificate, type KeyObject } from 'node:crypto';
import xmlenc from 'xml-encryption';
import { element, namespace, serializeFragment, trustedFragment, type CanonicalFragment } from '../../xml/canonical-xml.js';
import { keyInfoElement, SIGNATURE_ALGORITHMS, XMLDSIG_NS } from '../../xml/enveloped-signature.js';
import { SAML_NS } from './saml-constants.js';

/**
 * saml:EncryptedAssertion (saml-core §2.3.4) for SPs with an encryption certificate. The crypto is
 * xml-encryption's (a random content key, AES-GCM or AES-CBC over the signed assertion, the key
 * wrapped with RSA-OAEP-MGF1P to the SP's certificate); nothing cryptographic is written here.
 *
 * Why the element is written again instead of embedding xml-encryption's output: its templates
 * put whitespace between elements, self-close EncryptionMethod and redeclare namespaces, so its
 * string is not exclusive-canonical and could not sit inside a signed Response whose digest is taken
 * over the bytes we wrote. So the same EncryptedData (same algorithms, certificate and cipher values)
 * is serialised canonically with the outbound writer. The values are read from the library's output
 * by a scan, not a parse (a DOM parse cost as much as the encryption, performance.md): the XML
 * Encryption schema fixes their order (EncryptedData's EncryptionMethod, then KeyInfo holding the
 * EncryptedKey's EncryptionMethod and CipherValue, then EncryptedData's CipherValue), the output is
 * our own call's, and anything but exactly two of each, with the algorithms asked for, is refused.
 */

export type AssertionEncryption = 'aes256-gcm' | 'aes256-cbc' | 'aes128-cbc';

const CONTENT_ALGORITHMS = {
  'aes256-gcm': 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  'aes256-cbc': 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
  'aes128-cbc': 'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
} as const satisfies Record<AssertionEncryption, string>;
export const RSA_OAEP_MGF1P = 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p';
/** The OAEP digest, pinned in the call and written in DigestMethod (rsa-oaep-mgf1p fixes MGF1 to SHA-1). */
const OAEP_DIGEST = SIGNATURE_ALGORITHMS['rsa-sha1'].digestMethod;
const ENCRYPTED_ELEMENT = 'http://www.w3.org/2001/04/xmlenc#Element';

const SAML = namespace('saml', SAML_NS.assertion);
const XENC = namespace('xenc', SAML_NS.xmlenc);
const DS_DEFAULT = namespace('', XMLDSIG_NS);

interface EncryptionCertificate {
  readonly publicKey: KeyObject;
  readonly pem: string;
}

// Parsed once per certificate: a PEM key per publicEncrypt costs several times the RSA operation.
// SPs' encryption certificates are few (configuration and metadata); the cap only bounds rotation.
const certificates = new Map<string, EncryptionCertificate>();
const MAX_CACHED_CERTIFICATES = 256;

function encryptionCertificate(certificateBase64: string): EncryptionCertificate {
  let cached = certificates.get(certificateBase64);
  if (cached === undefined) {
    const certificate = new X509Certificate(Buffer.from(certificateBase64, 'base64'));
    if (certificates.size >= MAX_CACHED_CERTIFICATES) certificates.clear();
    cached = { publicKey: certificate.publicKey, pem: certificate.toString() };
    certificates.set(certificateBase64, cached);
  }
  return cached;
}

function encryptWithLibrary(content: string, certificate: EncryptionCertificate, algorithm: AssertionEncryption): Promise<string> {
  const options = {
    // xml-encryption hands rsa_pub to crypto.publicEncrypt, which takes a KeyObject (its types say PEM).
    rsa_pub: certificate.publicKey as unknown as string,
    pem: certificate.pem,
    encryptionAlgorithm: CONTENT_ALGORITHMS[algorithm],
    keyEncryptionAlgorithm: RSA_OAEP_MGF1P,
    keyEncryptionDigest: 'sha1',
    // AES-CBC is sent only to SPs configured for it (old SPs without GCM): the library's refusal
    // is for callers that did not choose, and its console warning is not our log.
    disallowEncryptionWithInsecureAlgorithm: algorithm === 'aes256-gcm',
    warnInsecureAlgorithm: false,
  } as const;
  return new Promise((resolve, reject) => {
    xmlenc.encrypt(content, options, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const ENCRYPTION_METHOD = /<(?:[A-Za-z_][\w.-]*:)?EncryptionMethod\s+Algorithm="([^"]*)"/g;
const CIPHER_VALUE = /<(?:[A-Za-z_][\w.-]*:)?CipherValue>([A-Za-z0-9+/]+={0,2})<\//g;

/** [EncryptedData's, EncryptedKey's] EncryptionMethod algorithms and CipherValues, in schema order. */
function scanPieces(encrypted: string): { algorithms: string[]; values: string[] } {
  const algorithms = Array.from(encrypted.matchAll(ENCRYPTION_METHOD), (m) => m[1] ?? '');
  const values = Array.from(encrypted.matchAll(CIPHER_VALUE), (m) => m[1] ?? '');
  const cipherValues = encrypted.split('CipherValue>').length - 1;
  if (algorithms.length !== 2 || values.length !== 2 || cipherValues !== 4 || !/^\s*<(?:[\w.-]+:)?EncryptedData[\s>]/.test(encrypted)) {
    throw new Error('xml-encryption output is not one EncryptedData with one EncryptedKey');
  }
  return { algorithms, values };
}

/**
 * Encrypts the assertion (as writeSignedSaml2Assertion returned it) to the SP's certificate and
 * returns the saml:EncryptedAssertion element, canonical, for writeSaml2Response.
 */
export async function encryptAssertion(signedAssertionXml: string, certificateBase64: string, algorithm: AssertionEncryption): Promise<string> {
  const contentAlgorithm = CONTENT_ALGORITHMS[algorithm];
  const { algorithms, values } = scanPieces(await encryptWithLibrary(signedAssertionXml, encryptionCertificate(certificateBase64), algorithm));
  const [dataAlgorithm, keyAlgorithm] = algorithms;
  const [encryptedKey, encryptedContent] = values as [string, string];
  if (dataAlgorithm !== contentAlgorithm || keyAlgorithm !== RSA_OAEP_MGF1P) throw new Error(`xml-encryption used ${dataAlgorithm} and ${keyAlgorithm}`);

  return serializeFragment(element(SAML, 'EncryptedAssertion', {}, [
    element(XENC, 'EncryptedData', { Type: ENCRYPTED_ELEMENT }, [
      element(XENC, 'EncryptionMethod', { Algorithm: contentAlgorithm }),
      element(DS_DEFAULT, 'KeyInfo', {}, [
        element(XENC, 'EncryptedKey', {}, [
          element(XENC, 'EncryptionMethod', { Algorithm: RSA_OAEP_MGF1P }, [element(DS_DEFAULT, 'DigestMethod', { Algorithm: OAEP_DIGEST })]),
          // Which of the SP's keys to decrypt with (an SP may hold its current and next one).
          keyInfoElement(certificateBase64),
          element(XENC, 'CipherData', {}, [element(XENC, 'CipherValue', {}, [encryptedKey])]),
        ]),
      ]),
      element(XENC, 'CipherData', {}, [element(XENC, 'CipherValue', {}, [encryptedContent])]),
    ]),
  ])).xml;
}

// What the canonical form above renders without an ancestor's help: saml on EncryptedAssertion,
// xenc on EncryptedData, the default (xmldsig) on KeyInfo.
export const ENCRYPTED_ASSERTION_LOOKUPS = [SAML, XENC, DS_DEFAULT];
const ENCRYPTED_START = `<saml:EncryptedAssertion xmlns:saml="${SAML_NS.assertion}"><xenc:EncryptedData xmlns:xenc="${SAML_NS.xmlenc}" `;

/** The output of encryptAssertion as a fragment to embed byte for byte (shape check only, no parsing). */
export function encryptedAssertionFragment(encrypted: string): CanonicalFragment {
  if (!encrypted.startsWith(ENCRYPTED_START) || !encrypted.endsWith('</xenc:EncryptedData></saml:EncryptedAssertion>')) {
    throw new Error('not an EncryptedAssertion written by encryptAssertion');
  }
  return trustedFragment(encrypted, ENCRYPTED_ASSERTION_LOOKUPS);
}
