/**
 * THE inbound signature check. Verifies one element's enveloped XML-DSig signature against
 * configured certificates and hands back ONLY what the signature covers: the element parsed again
 * from the exclusive-canonical bytes whose digest was checked (xml-crypto's getSignedReferences),
 * never a node of the posted document. Whatever an attacker wraps around, beside or inside the signed
 * element (signature wrapping, XSW1-8), or splits with comments (exc-c14n drops comments, so
 * "alice@corp.example<!---->.evil.example" is signed as "alice@corp.example.evil.example"), cannot
 * change what the caller reads. node-saml's getVerifiedXml is the model; samlify issue #634 and
 * passport-wsfed-saml2 CVE-2025-46572 are what reading the posted DOM leads to.
 *
 * Only one shape is accepted, the one SAML 2.0, SAML 1.1 and WS-Trust signers use: exactly one
 * ds:Signature directly inside the element, holding SignedInfo, SignatureValue and an optional
 * KeyInfo (no ds:Object: XSW8 hides the original there); SignedInfo with exc-c14n, an allowed RSA
 * SignatureMethod (never HMAC: a public certificate must not double as an HMAC secret) and exactly
 * one Reference to "#" + the element's own ID, transformed by enveloped-signature then exc-c14n
 * (optionally with InclusiveNamespaces) and digested with an allowed algorithm. Every ID-like
 * attribute value in the whole document must be unique, so the Reference can only mean this element.
 * KeyInfo never supplies the key: certificates in it only select among the trusted ones (none
 * trusted: refused); without certificates (Entra sends X509SKI + KeyName) each trusted one is tried.
 */
import { verify as verifyWithKey, X509Certificate } from 'node:crypto';
import { XMLSerializer, type Document, type Element, type Node } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { IdpError } from '../core/errors.js';
import { ENVELOPED_SIGNATURE, EXC_C14N, SIGNATURE_ALGORITHMS, XMLDSIG_NS } from './enveloped-signature.js';
import { DEFAULT_XML_LIMITS, isHardenedDocument, parseXml } from './parse-xml.js';
import { reject } from './xml-rejected-error.js';

export { XmlRejectedError, type XmlRejectionReason } from './xml-rejected-error.js';

export interface QualifiedName {
  readonly ns: string;
  readonly localName: string;
}

export interface VerifySignedOptions {
  /** The attribute the Reference URI names: `ID` (SAML 2.0, metadata), `AssertionID` (SAML 1.1). */
  readonly idAttribute: 'ID' | 'AssertionID';
  /** Base64 DER or PEM certificates whose keys may have signed (e.g. an SP's current and next). */
  readonly trustedCertificates: readonly string[];
  /** SignatureMethod URIs allowed; HMAC is refused even if listed. Leave SHA-1 out unless an SP needs it. */
  readonly allowedSignatureAlgorithms: readonly string[];
  /** DigestMethod URIs allowed. */
  readonly allowedDigestAlgorithms: readonly string[];
  /** Names the signed element may have; checked on the posted element and again on the signed copy. */
  readonly expectedRootNames?: readonly QualifiedName[];
  /** Whose own ds:Signature to check; defaults to the document element. Must belong to `doc`. */
  readonly element?: Element;
}

export interface VerifiedElement {
  /** The signed element, parsed from `canonicalXml`: read this and nothing else. Its Signature is gone. */
  readonly element: Element;
  /** The exclusive-canonical bytes the digest covers (enveloped Signature removed, comments dropped). */
  readonly canonicalXml: string;
  /** The element's ID (the Reference URI without "#"). */
  readonly id: string;
  /** The trusted certificate whose key verified the signature, and its index in trustedCertificates. */
  readonly certificate: X509Certificate;
  readonly certificateIndex: number;
  readonly signatureAlgorithm: string;
  readonly digestAlgorithm: string;
}

/** Algorithm URIs as signers write them (http:// forms); the SHA-1/SHA-256 ones are those we sign with. */
export const XMLDSIG_ALGORITHMS = {
  rsaSha1: SIGNATURE_ALGORITHMS['rsa-sha1'].signatureMethod,
  rsaSha256: SIGNATURE_ALGORITHMS['rsa-sha256'].signatureMethod,
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  sha1: SIGNATURE_ALGORITHMS['rsa-sha1'].digestMethod,
  sha256: SIGNATURE_ALGORITHMS['rsa-sha256'].digestMethod,
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
} as const;

/** The secure default: SHA-256 and SHA-512 only. */
export const DEFAULT_SIGNATURE_ALGORITHMS: readonly string[] = [XMLDSIG_ALGORITHMS.rsaSha256, XMLDSIG_ALGORITHMS.rsaSha512];
export const DEFAULT_DIGEST_ALGORITHMS: readonly string[] = [XMLDSIG_ALGORITHMS.sha256, XMLDSIG_ALGORITHMS.sha512];

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const COMMENT_NODE = 8;

/** Every attribute xml-crypto resolves a Reference URI against (it matches on local name, any namespace). */
const ID_LIKE_ATTRIBUTES: ReadonlySet<string> = new Set(['ID', 'Id', 'id', 'AssertionID']);
const NCNAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;
const HMAC = /hmac/i;
/**
 * exc-c14n renders a namespace declaration on every element that uses a prefix its output parent
 * did not render, so a long namespace URI used by many sibling elements multiplies in the canonical
 * form (and is canonicalised before the signature is known to be good). Bounded before xml-crypto runs.
 */
const MAX_CANONICAL_BYTES = 4 * 1024 * 1024;

/** Verifies `options.element`'s (default: the root's) own enveloped signature; throws XmlRejectedError. */
export function verifySignedElement(doc: Document, options: VerifySignedOptions): VerifiedElement {
  if (!isHardenedDocument(doc)) throw new Error('verifySignedElement: the document was not parsed by parseXml');
  const trusted = options.trustedCertificates.map(toCertificate);
  if (trusted.length === 0) throw configurationError('no trusted certificate is configured');
  const target = options.element ?? doc.documentElement;
  if (!target || target.ownerDocument !== doc) throw new Error('verifySignedElement: the element is not in this document');

  checkName(target, options.expectedRootNames, 'the element');
  const id = target.getAttribute(options.idAttribute) ?? '';
  if (!target.hasAttribute(options.idAttribute) || !NCNAME.test(id)) reject('missing-id', `no usable ${options.idAttribute} attribute`);
  checkUniqueIds(doc);
  const signature = ownSignature(target);
  const { signatureAlgorithm, digestAlgorithm, keyInfoCertificates } = readSignature(signature, id, options);

  const candidates = keyInfoCertificates.length === 0
    ? trusted.map((certificate, index) => ({ certificate, index }))
    : trusted.map((certificate, index) => ({ certificate, index })).filter((c) => keyInfoCertificates.some((k) => k.equals(c.certificate.raw)));
  if (candidates.length === 0) reject('untrusted-key', 'the KeyInfo certificate is not a trusted certificate');
  if (canonicalSizeBound(target) > MAX_CANONICAL_BYTES) reject('too-large', 'the canonical form of the element would be too large');

  const xml = new XMLSerializer().serializeToString(doc);
  let lastError = 'no trusted certificate verified the signature';
  for (const { certificate, index } of candidates) {
    const signed = new SignedXml({
      publicCert: certificate.publicKey,
      // "ID" is already among xml-crypto's defaults; naming it again would count each match twice.
      ...(options.idAttribute === 'AssertionID' ? { idAttribute: 'AssertionID' } : {}),
      getCertFromKeyInfo: () => null,
    });
    let valid: boolean;
    try {
      signed.loadSignature(signature as unknown as Parameters<SignedXml['loadSignature']>[0]);
      valid = signed.checkSignature(xml);
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      continue;
    }
    // A false result is a digest mismatch, decided before any key is used: another key cannot help.
    if (!valid) reject('digest-mismatch', 'the digest of the referenced element does not match');
    return signedCopy(signed, target, id, options, { certificate, certificateIndex: index, signatureAlgorithm, digestAlgorithm });
  }
  return reject('signature-invalid', lastError);
}

function signedCopy(
  signed: SignedXml, target: Element, id: string, options: VerifySignedOptions,
  result: Pick<VerifiedElement, 'certificate' | 'certificateIndex' | 'signatureAlgorithm' | 'digestAlgorithm'>,
): VerifiedElement {
  const references = signed.getSignedReferences();
  const canonicalXml = references[0];
  if (references.length !== 1 || canonicalXml === undefined) reject('signed-content-mismatch', `${references.length} signed references`);
  // exc-c14n may add namespace declarations to an element the original declared on ancestors.
  const copy = parseXml(canonicalXml, { maxBytes: MAX_CANONICAL_BYTES, maxAttributes: 2 * DEFAULT_XML_LIMITS.maxAttributes }).documentElement;
  if (!copy || copy.namespaceURI !== target.namespaceURI || copy.localName !== target.localName || copy.getAttribute(options.idAttribute) !== id) {
    reject('signed-content-mismatch', 'what the signature covers is not the element that carries it');
  }
  checkName(copy, options.expectedRootNames, 'the signed element');
  return { element: copy, canonicalXml, id, ...result };
}

function checkName(element: Element, expected: readonly QualifiedName[] | undefined, what: string): void {
  if (expected === undefined) return;
  if (!expected.some((n) => n.ns === element.namespaceURI && n.localName === element.localName)) {
    reject('unexpected-element', `${what} is {${element.namespaceURI ?? ''}}${element.localName ?? ''}`);
  }
}

function checkUniqueIds(doc: Document): void {
  const seen = new Set<string>();
  const stack: Element[] = doc.documentElement ? [doc.documentElement] : [];
  for (let e = stack.pop(); e; e = stack.pop()) {
    for (let i = 0; i < e.attributes.length; i++) {
      const a = e.attributes.item(i);
      if (!a || !ID_LIKE_ATTRIBUTES.has(a.localName ?? a.nodeName)) continue;
      if (seen.has(a.value)) reject('duplicate-id', `the ID ${JSON.stringify(a.value.slice(0, 80))} appears twice`);
      seen.add(a.value);
    }
    for (const child of childElements(e)) stack.push(child);
  }
}

function childElements(parent: Node): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === ELEMENT_NODE) out.push(n as Element);
  return out;
}

function isDs(e: Element, localName: string): boolean {
  return e.namespaceURI === XMLDSIG_NS && e.localName === localName;
}

/** Element children of a signature-structure element; text other than whitespace is malformed. */
function structureChildren(parent: Element): Element[] {
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE || n.nodeType === COMMENT_NODE) continue;
    if (n.nodeType === TEXT_NODE && (n.nodeValue ?? '').trim() === '') continue;
    reject('signature-malformed', `unexpected content in ds:${parent.localName ?? ''}`);
  }
  return childElements(parent);
}

function ownSignature(target: Element): Element {
  const signatures = childElements(target).filter((e) => isDs(e, 'Signature'));
  const signature = signatures[0];
  if (!signature) return reject('signature-missing', 'the element has no ds:Signature child');
  if (signatures.length > 1) reject('signature-multiple', `the element has ${signatures.length} ds:Signature children`);
  return signature;
}

interface SignatureFacts {
  readonly signatureAlgorithm: string;
  readonly digestAlgorithm: string;
  /** DER of every X509Certificate in KeyInfo, compared byte for byte with the trusted ones (never parsed). */
  readonly keyInfoCertificates: readonly Buffer[];
}

function expectShape(children: readonly Element[], names: readonly string[], where: string): void {
  if (children.length !== names.length || children.some((c, i) => !isDs(c, names[i] ?? ''))) {
    reject('signature-malformed', `ds:${where} must hold ${names.map((n) => `ds:${n}`).join(', ') || 'nothing'}`);
  }
}

function algorithmOf(e: Element): string {
  return e.getAttribute('Algorithm') ?? '';
}

function readSignature(signature: Element, id: string, options: VerifySignedOptions): SignatureFacts {
  const parts = structureChildren(signature);
  const keyInfo = parts[2];
  expectShape(parts, keyInfo ? ['SignedInfo', 'SignatureValue', 'KeyInfo'] : ['SignedInfo', 'SignatureValue'], 'Signature');
  const [signedInfo, signatureValue] = parts as [Element, Element];
  // xml-crypto finds SignatureValue, like the algorithms, as the first descendant of that local name
  // in any namespace: nothing may nest inside the value elements for it to find instead.
  expectShape(childElements(signatureValue), [], 'SignatureValue');

  const info = structureChildren(signedInfo);
  const [c14n, method] = info;
  const references = info.slice(2);
  if (!c14n || !method || !isDs(c14n, 'CanonicalizationMethod') || !isDs(method, 'SignatureMethod') || !references.every((r) => isDs(r, 'Reference'))) {
    reject('signature-malformed', 'ds:SignedInfo must hold CanonicalizationMethod, SignatureMethod and Reference');
  }
  if (algorithmOf(c14n) !== EXC_C14N) reject('canonicalization-not-allowed', `CanonicalizationMethod ${algorithmOf(c14n)}`);
  expectShape(structureChildren(c14n), [], 'CanonicalizationMethod');
  const signatureAlgorithm = algorithmOf(method);
  if (HMAC.test(signatureAlgorithm) || !options.allowedSignatureAlgorithms.includes(signatureAlgorithm)) {
    reject('signature-algorithm-not-allowed', `SignatureMethod ${signatureAlgorithm}`);
  }
  expectShape(structureChildren(method), [], 'SignatureMethod');

  const reference = references[0];
  if (references.length !== 1 || !reference) return reject('reference-count', `${references.length} references`);
  if (reference.getAttribute('URI') !== `#${id}`) reject('reference-uri', `the Reference does not point at #${id}`);
  const refParts = structureChildren(reference);
  expectShape(refParts, ['Transforms', 'DigestMethod', 'DigestValue'], 'Reference');
  const [transforms, digestMethod, digestValue] = refParts as [Element, Element, Element];
  expectShape(childElements(digestValue), [], 'DigestValue');
  checkTransforms(structureChildren(transforms));
  const digestAlgorithm = algorithmOf(digestMethod);
  if (!options.allowedDigestAlgorithms.includes(digestAlgorithm)) reject('digest-algorithm-not-allowed', `DigestMethod ${digestAlgorithm}`);
  expectShape(structureChildren(digestMethod), [], 'DigestMethod');

  const keyInfoCertificates = keyInfo ? descendants(keyInfo, 'X509Certificate').map((c) => Buffer.from((c.textContent ?? '').replace(/\s+/g, ''), 'base64')) : [];
  return { signatureAlgorithm, digestAlgorithm, keyInfoCertificates };
}

/** Exactly enveloped-signature then exc-c14n; the latter may carry one ec:InclusiveNamespaces. */
function checkTransforms(list: readonly Element[]): void {
  const [enveloped, exc] = list;
  if (list.length !== 2 || !enveloped || !exc || !isDs(enveloped, 'Transform') || !isDs(exc, 'Transform')
    || algorithmOf(enveloped) !== ENVELOPED_SIGNATURE || algorithmOf(exc) !== EXC_C14N) {
    reject('transform-not-allowed', `transforms ${JSON.stringify(list.map(algorithmOf))}`);
  }
  // xml-crypto (node-saml's signer) copies the InclusiveNamespaces onto the enveloped-signature
  // transform too, in that transform's namespace; it has no meaning there and is tolerated, empty.
  checkInclusiveNamespaces(enveloped, [EXC_C14N, ENVELOPED_SIGNATURE]);
  checkInclusiveNamespaces(exc, [EXC_C14N]);
}

function checkInclusiveNamespaces(transform: Element, namespaces: readonly string[]): void {
  const inner = structureChildren(transform);
  const only = inner[0];
  if (inner.length > 1 || (only && (!namespaces.includes(only.namespaceURI ?? '') || only.localName !== 'InclusiveNamespaces' || structureChildren(only).length > 0))) {
    reject('transform-not-allowed', `the ${algorithmOf(transform)} transform may carry one empty InclusiveNamespaces, nothing else`);
  }
}

function descendants(parent: Element, localName: string): Element[] {
  const out: Element[] = [];
  const stack = childElements(parent);
  for (let e = stack.pop(); e; e = stack.pop()) {
    if (isDs(e, localName)) out.push(e);
    stack.push(...childElements(e));
  }
  return out;
}

/** An upper bound on the element's exc-c14n size: its text plus each element re-declaring what it uses. */
function canonicalSizeBound(target: Element): number {
  let total = 0;
  const stack: Element[] = [target];
  for (let e = stack.pop(); e; e = stack.pop()) {
    total += 2 * (e.nodeName.length + 3) + (e.namespaceURI?.length ?? 0) + 16;
    for (let i = 0; i < e.attributes.length; i++) {
      const a = e.attributes.item(i);
      if (a) total += a.nodeName.length + a.value.length * 6 + (a.namespaceURI?.length ?? 0) + 32;
    }
    for (let n = e.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === ELEMENT_NODE) stack.push(n as Element);
      else if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) total += (n.nodeValue ?? '').length * 5;
    }
  }
  return total;
}

function configurationError(detail: string): IdpError {
  return new IdpError('configuration', 'A trusted signing certificate is misconfigured.', detail);
}

/**
 * Trusted certificates come from the configuration and SP metadata, a handful of strings: parsed
 * once, not on every verification (parsing cost more than the RSA check itself). Bounded, so a
 * metadata refresh storm cannot grow it without end.
 */
const parsedCertificates = new Map<string, X509Certificate>();
const MAX_PARSED_CERTIFICATES = 1024;

function toCertificate(value: string): X509Certificate {
  let certificate = parsedCertificates.get(value);
  if (certificate === undefined) {
    certificate = parseCertificate(value);
    if (parsedCertificates.size >= MAX_PARSED_CERTIFICATES) parsedCertificates.clear();
    parsedCertificates.set(value, certificate);
  }
  return certificate;
}

function parseCertificate(value: string): X509Certificate {
  try {
    return value.includes('-----BEGIN')
      ? new X509Certificate(value)
      : new X509Certificate(Buffer.from(value.replace(/\s+/g, ''), 'base64'));
  } catch (err) {
    throw configurationError(`not a certificate: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// SAML HTTP-Redirect binding (saml-bindings-2.0-os §3.4.4.1)

export interface RedirectBindingQuery {
  /** The query string exactly as received (without or with the leading "?"), never a re-encoding of parsed values. */
  readonly raw: string;
}

export interface VerifiedRedirectMessage {
  readonly parameter: 'SAMLRequest' | 'SAMLResponse';
  /** The URL-decoded parameter value: base64 of the DEFLATEd message, still to be inflated and parsed. */
  readonly message: string;
  readonly relayState: string | undefined;
  readonly signatureAlgorithm: string;
  readonly certificate: X509Certificate;
  readonly certificateIndex: number;
}

const REDIRECT_HASHES: Readonly<Record<string, string>> = {
  [XMLDSIG_ALGORITHMS.rsaSha1]: 'sha1',
  [XMLDSIG_ALGORITHMS.rsaSha256]: 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384': 'sha384',
  [XMLDSIG_ALGORITHMS.rsaSha512]: 'sha512',
};
const SIGNED_PARAMETERS = ['SAMLRequest', 'SAMLResponse', 'RelayState', 'SigAlg'] as const;
const BINDING_PARAMETERS: ReadonlySet<string> = new Set([...SIGNED_PARAMETERS, 'Signature']);

/**
 * Verifies the Redirect binding's query signature. The signed octets are rebuilt from the values
 * exactly as sent (no decoding and re-encoding, which SPs do differently) in the order the binding
 * fixes, `SAMLRequest=…&RelayState=…&SigAlg=…` (or SAMLResponse), and the query must present them in
 * that order. A binding parameter given twice is refused (HTTP parameter pollution: a framework's
 * query parser might read the other copy). Callers read the message and RelayState from the result,
 * never from their framework's parsed query.
 */
export function verifyRedirectBindingSignature(
  query: RedirectBindingQuery, trustedCertificates: readonly string[], allowedSignatureAlgorithms: readonly string[],
): VerifiedRedirectMessage {
  const trusted = trustedCertificates.map(toCertificate);
  if (trusted.length === 0) throw configurationError('no trusted certificate is configured');
  const raw = query.raw.startsWith('?') ? query.raw.slice(1) : query.raw;
  if (raw.length > DEFAULT_XML_LIMITS.maxBytes) reject('too-large', 'the query string is too long');

  const values = new Map<string, string>();
  const order: string[] = [];
  for (const pair of raw.split('&')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (!BINDING_PARAMETERS.has(name)) continue;
    if (values.has(name)) reject('redirect-malformed', `${name} appears twice`);
    values.set(name, eq < 0 ? '' : pair.slice(eq + 1));
    order.push(name);
  }
  const parameter = values.has('SAMLRequest') ? 'SAMLRequest' : 'SAMLResponse';
  if (values.has('SAMLRequest') === values.has('SAMLResponse')) reject('redirect-malformed', 'exactly one of SAMLRequest and SAMLResponse is required');
  const sigAlgRaw = values.get('SigAlg');
  const signatureRaw = values.get('Signature');
  if (sigAlgRaw === undefined || signatureRaw === undefined) return reject('redirect-unsigned', 'SigAlg or Signature is missing');

  const signedNames = SIGNED_PARAMETERS.filter((n) => values.has(n));
  const sentOrder = order.filter((n) => n !== 'Signature');
  if (sentOrder.some((n, i) => n !== signedNames[i])) reject('redirect-malformed', `parameters out of order: ${sentOrder.join(',')}`);
  const octets = Buffer.from(signedNames.map((n) => `${n}=${values.get(n) ?? ''}`).join('&'), 'utf8');

  const signatureAlgorithm = formDecode(sigAlgRaw);
  const hash = REDIRECT_HASHES[signatureAlgorithm];
  if (hash === undefined || HMAC.test(signatureAlgorithm) || !allowedSignatureAlgorithms.includes(signatureAlgorithm)) {
    reject('signature-algorithm-not-allowed', `SigAlg ${signatureAlgorithm}`);
  }
  const signatureBase64 = formDecode(signatureRaw);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureBase64)) reject('redirect-malformed', 'Signature is not base64');
  const signatureBytes = Buffer.from(signatureBase64, 'base64');

  const index = trusted.findIndex((c) => c.publicKey.asymmetricKeyType === 'rsa' && verifiesQuietly(hash, octets, c, signatureBytes));
  const certificate = trusted[index];
  if (!certificate) return reject('signature-invalid', 'no trusted certificate verified the query signature');
  const relayState = values.get('RelayState');
  return {
    parameter,
    message: formDecode(values.get(parameter) ?? ''),
    relayState: relayState === undefined ? undefined : formDecode(relayState),
    signatureAlgorithm,
    certificate,
    certificateIndex: index,
  };
}

/** node:crypto's RSA verify; a signature it cannot even decode is just a bad signature here. */
function verifiesQuietly(hash: string, octets: Buffer, certificate: X509Certificate, signature: Buffer): boolean {
  try {
    return verifyWithKey(hash, octets, certificate.publicKey, signature);
  } catch {
    return false;
  }
}

/** application/x-www-form-urlencoded value decoding; a malformed escape is refused, not guessed at. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return reject('redirect-malformed', 'a parameter is not correctly URL-encoded');
  }
}
