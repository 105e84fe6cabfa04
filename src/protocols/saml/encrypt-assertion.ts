import { X509Certificate } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import xmlenc from 'xml-encryption';
import { element, namespace, serializeFragment, trustedFragment, type CanonicalFragment } from '../../xml/canonical-xml.js';
import { keyInfoElement, SIGNATURE_ALGORITHMS, XMLDSIG_NS } from '../../xml/enveloped-signature.js';
import { parseXml } from '../../xml/parse-xml.js';
import { SAML_NS } from './saml-constants.js';

/**
 * saml:EncryptedAssertion (saml-core §2.3.4) for SPs with an encryption certificate. The crypto is
 * xml-encryption's (a random content key, AES-GCM or AES-CBC over the signed assertion, the key
 * wrapped with RSA-OAEP-MGF1P to the SP's certificate); nothing cryptographic is written here.
 *
 * Why the element is written again instead of embedding xml-encryption's output: its templates
 * put whitespace between elements, self-close EncryptionMethod and redeclare namespaces, so its
 * string is not exclusive-canonical and could not sit inside a signed Response whose digest is taken
 * over the bytes we wrote. So its output (our own, a few kilobytes) is read back with the hardened
 * parser, the algorithms it used are checked to be those asked for, and the same EncryptedData,
 * same algorithms, certificate and cipher values, is serialised canonically with the outbound writer.
 */

export type AssertionEncryption = 'aes256-gcm' | 'aes256-cbc' | 'aes128-cbc';

const CONTENT_ALGORITHMS = {
  'aes256-gcm': 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  'aes256-cbc': 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
  'aes128-cbc': 'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
} as const satisfies Record<AssertionEncryption, string>;
export const RSA_OAEP_MGF1P = 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p';
/** The OAEP digest xml-encryption uses with rsa-oaep-mgf1p (the identifier fixes MGF1 to SHA-1 too). */
const OAEP_DIGEST = SIGNATURE_ALGORITHMS['rsa-sha1'].digestMethod;
const ENCRYPTED_ELEMENT = 'http://www.w3.org/2001/04/xmlenc#Element';

const SAML = namespace('saml', SAML_NS.assertion);
const XENC = namespace('xenc', SAML_NS.xmlenc);
const DS_DEFAULT = namespace('', XMLDSIG_NS);

// Generous: the encrypted form of a large assertion (many groups) is about 4/3 of it.
const MAX_ENCRYPTED_BYTES = 8 * 1024 * 1024;

function encryptWithLibrary(content: string, certificate: X509Certificate, algorithm: AssertionEncryption): Promise<string> {
  return new Promise((resolve, reject) => {
    xmlenc.encrypt(content, {
      rsa_pub: certificate.publicKey.export({ format: 'pem', type: 'spki' }),
      pem: certificate.toString(),
      encryptionAlgorithm: CONTENT_ALGORITHMS[algorithm],
      keyEncryptionAlgorithm: RSA_OAEP_MGF1P,
      // AES-CBC is sent only to SPs configured for it (old SPs without GCM): the library's refusal
      // is for callers that did not choose, and its console warning is not our log.
      disallowEncryptionWithInsecureAlgorithm: algorithm === 'aes256-gcm',
      warnInsecureAlgorithm: false,
    }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** The one child element of `parent` with this namespace and local name, or an error. */
function only(parent: Element, ns: string, localName: string): Element {
  const found: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    const e = n as Element;
    if (n.nodeType === 1 && e.namespaceURI === ns && e.localName === localName) found.push(e);
  }
  if (found.length !== 1 || !found[0]) throw new Error(`xml-encryption output: expected one ${localName} in ${parent.localName}, found ${found.length}`);
  return found[0];
}

function algorithmOf(method: Element, expected: string): void {
  if (method.getAttribute('Algorithm') !== expected) throw new Error(`xml-encryption used ${method.getAttribute('Algorithm')}, not ${expected}`);
}

function cipherValue(parent: Element): string {
  const value = only(only(parent, SAML_NS.xmlenc, 'CipherData'), SAML_NS.xmlenc, 'CipherValue').textContent ?? '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) throw new Error('xml-encryption output: CipherValue is not base64');
  return value;
}

/**
 * Encrypts the assertion (as writeSignedSaml2Assertion returned it) to the SP's certificate and
 * returns the saml:EncryptedAssertion element, canonical, for writeSaml2Response.
 */
export async function encryptAssertion(signedAssertionXml: string, certificateBase64: string, algorithm: AssertionEncryption): Promise<string> {
  const certificate = new X509Certificate(Buffer.from(certificateBase64, 'base64'));
  const contentAlgorithm = CONTENT_ALGORITHMS[algorithm];
  const encrypted = parseXml(await encryptWithLibrary(signedAssertionXml, certificate, algorithm), { maxBytes: MAX_ENCRYPTED_BYTES }).documentElement;
  if (!encrypted || encrypted.namespaceURI !== SAML_NS.xmlenc || encrypted.localName !== 'EncryptedData') throw new Error('xml-encryption output: no EncryptedData');
  algorithmOf(only(encrypted, SAML_NS.xmlenc, 'EncryptionMethod'), contentAlgorithm);
  const encryptedKey = only(only(encrypted, XMLDSIG_NS, 'KeyInfo'), SAML_NS.xmlenc, 'EncryptedKey');
  const keyMethod = only(encryptedKey, SAML_NS.xmlenc, 'EncryptionMethod');
  algorithmOf(keyMethod, RSA_OAEP_MGF1P);
  algorithmOf(only(keyMethod, XMLDSIG_NS, 'DigestMethod'), OAEP_DIGEST);

  return serializeFragment(element(SAML, 'EncryptedAssertion', {}, [
    element(XENC, 'EncryptedData', { Type: ENCRYPTED_ELEMENT }, [
      element(XENC, 'EncryptionMethod', { Algorithm: contentAlgorithm }),
      element(DS_DEFAULT, 'KeyInfo', {}, [
        element(XENC, 'EncryptedKey', {}, [
          element(XENC, 'EncryptionMethod', { Algorithm: RSA_OAEP_MGF1P }, [element(DS_DEFAULT, 'DigestMethod', { Algorithm: OAEP_DIGEST })]),
          // Which of the SP's keys to decrypt with (an SP may hold its current and next one).
          keyInfoElement(certificateBase64),
          element(XENC, 'CipherData', {}, [element(XENC, 'CipherValue', {}, [cipherValue(encryptedKey)])]),
        ]),
      ]),
      element(XENC, 'CipherData', {}, [element(XENC, 'CipherValue', {}, [cipherValue(encrypted)])]),
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
