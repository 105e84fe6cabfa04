import { hash, sign } from 'node:crypto';
import type { SigningKey } from '../keys/key-store.js';
import {
  element, fillFragment, fillSlots, namespace, serializeCanonical, serializeFragment, slot, type CanonicalDocument, type CanonicalFragment, type XmlElement,
} from './canonical-xml.js';

/**
 * Enveloped XML-DSig over an element we wrote ourselves in exclusive canonical form: the digest is
 * taken over those bytes as they are (the enveloped-signature transform removes exactly the
 * Signature we have not inserted yet), SignedInfo is written canonically and signed once with
 * node:crypto and the key parsed at start-up. Algorithm URIs are the http:// forms (entra-federation.md).
 */

export const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export type SignatureAlgorithm = 'rsa-sha256' | 'rsa-sha1';

interface AlgorithmUris {
  readonly hash: 'sha256' | 'sha1';
  readonly signatureMethod: string;
  readonly digestMethod: string;
}

export const SIGNATURE_ALGORITHMS: Readonly<Record<SignatureAlgorithm, AlgorithmUris>> = {
  'rsa-sha256': { hash: 'sha256', signatureMethod: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', digestMethod: 'http://www.w3.org/2001/04/xmlenc#sha256' },
  'rsa-sha1': { hash: 'sha1', signatureMethod: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', digestMethod: 'http://www.w3.org/2000/09/xmldsig#sha1' },
};

const DS = namespace('ds', XMLDSIG_NS);
// KeyInfo in the default namespace, as AD FS writes it (entra-federation.md §1.5).
const DS_DEFAULT = namespace('', XMLDSIG_NS);
const EC = namespace('ec', EXC_C14N);

// The referenced ID must be an XML NCName for URI="#id" to resolve; ours are "_" + UUID.
const NCNAME_ASCII = /^[A-Za-z_][A-Za-z0-9._-]*$/;

export interface EnvelopedSignatureInput {
  /** Exclusive-canonical bytes of the element to sign, WITHOUT its ds:Signature (as serializeCanonical wrote them). */
  readonly canonicalElement: string;
  /** The element's ID attribute value (AssertionID, ID): the Reference is URI="#id". */
  readonly id: string;
  readonly key: SigningKey;
  readonly algorithm: SignatureAlgorithm;
  /**
   * InclusiveNamespaces PrefixList of the Reference's exc-c14n transform: must be the
   * `inclusivePrefixes` the element was serialised with (metadata: "fed", for xsi:type QNames).
   */
  readonly inclusivePrefixes?: readonly string[];
}

/**
 * Returns the ds:Signature to insert into the signed element (SAML 1.1 Assertion: last child;
 * metadata EntityDescriptor: first child), as a canonical fragment for `fillSlot`.
 */
export function signEnveloped(input: EnvelopedSignatureInput): CanonicalFragment {
  if (!NCNAME_ASCII.test(input.id)) throw new Error(`signature reference id "${input.id}" is not an NCName`);
  const shape = signatureShape(input.algorithm, input.inclusivePrefixes ?? []);
  const values = { reference: `#${input.id}`, digest: hash(shape.hash, input.canonicalElement, 'base64') };
  const signedInfoBytes = Buffer.from(fillSlots(shape.signedInfo, values), 'utf8');
  const signatureValue = sign(shape.hash, signedInfoBytes, input.key.privateKey).toString('base64');
  return fillFragment(shape.signature, { ...values, signatureValue, keyInfo: keyInfoFragment(input.key) });
}

/**
 * Everything of a signature but its values is fixed by the algorithm and the prefix list, so it is
 * serialised once per pair and filled per signature. Two forms: CanonicalizationMethod is exc-c14n,
 * and SignedInfo as its own apex (the bytes signed) declares xmlns:ds itself, which its copy inside
 * ds:Signature (where ds is already rendered) does not.
 */
interface SignatureShape {
  readonly hash: AlgorithmUris['hash'];
  readonly signedInfo: CanonicalDocument;
  readonly signature: CanonicalDocument;
}

// Keyed by algorithm and prefix list, both code constants: a handful of entries.
const signatureShapes = new Map<string, SignatureShape>();

function signatureShape(algorithm: SignatureAlgorithm, inclusivePrefixes: readonly string[]): SignatureShape {
  const cacheKey = `${algorithm} ${inclusivePrefixes.join(' ')}`;
  let shape = signatureShapes.get(cacheKey);
  if (shape === undefined) {
    const uris = SIGNATURE_ALGORITHMS[algorithm];
    const signedInfo = signedInfoElement(uris, inclusivePrefixes);
    shape = {
      hash: uris.hash,
      signedInfo: serializeCanonical(signedInfo),
      signature: serializeCanonical(element(DS, 'Signature', {}, [signedInfo, element(DS, 'SignatureValue', {}, [slot('signatureValue')]), slot('keyInfo')])),
    };
    signatureShapes.set(cacheKey, shape);
  }
  return shape;
}

// A key's KeyInfo is the same in every signature it makes: serialised once per key rather than per
// token (the certificate is 1.4 KB of text to check for escaping each time).
const keyInfoFragments = new WeakMap<SigningKey, CanonicalFragment>();

function keyInfoFragment(key: SigningKey): CanonicalFragment {
  let fragment = keyInfoFragments.get(key);
  if (fragment === undefined) {
    fragment = serializeFragment(keyInfoElement(key.certificateBase64));
    keyInfoFragments.set(key, fragment);
  }
  return fragment;
}

/** KeyInfo/X509Data/X509Certificate (base64 DER), as in signatures and metadata KeyDescriptors. */
export function keyInfoElement(certificateBase64: string): XmlElement {
  return element(DS_DEFAULT, 'KeyInfo', {}, [
    element(DS_DEFAULT, 'X509Data', {}, [element(DS_DEFAULT, 'X509Certificate', {}, [certificateBase64])]),
  ]);
}

/** SignedInfo with slots for the Reference URI ("#" + id) and the DigestValue. */
function signedInfoElement(uris: AlgorithmUris, inclusivePrefixes: readonly string[]): XmlElement {
  const excC14nTransform = inclusivePrefixes.length === 0
    ? element(DS, 'Transform', { Algorithm: EXC_C14N })
    : element(DS, 'Transform', { Algorithm: EXC_C14N }, [element(EC, 'InclusiveNamespaces', { PrefixList: inclusivePrefixes.join(' ') })]);
  return element(DS, 'SignedInfo', {}, [
    element(DS, 'CanonicalizationMethod', { Algorithm: EXC_C14N }),
    element(DS, 'SignatureMethod', { Algorithm: uris.signatureMethod }),
    element(DS, 'Reference', { URI: slot('reference') }, [
      element(DS, 'Transforms', {}, [element(DS, 'Transform', { Algorithm: ENVELOPED_SIGNATURE }), excC14nTransform]),
      element(DS, 'DigestMethod', { Algorithm: uris.digestMethod }),
      element(DS, 'DigestValue', {}, [slot('digest')]),
    ]),
  ]);
}
