/**
 * Signed SAML 2.0 samples for the inbound verifier's tests, signed by xml-crypto (not by our own
 * signer, so the verifier is checked against what a real SP library emits) with the fixture keys of
 * test/xml/fixtures, plus the DOM surgery the attack variants need. Test code only.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { XMLDSIG_ALGORITHMS } from '../../../src/xml/verify-signed.js';
import { DSIG, signingKey, type TestKey } from '../signature-oracles.js';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '../../attacks/xml');
export const SAMLP = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const HMAC_SHA1 = 'http://www.w3.org/2000/09/xmldsig#hmac-sha1';

export const AUTHN_REQUEST_ID = '_7b1c2f0e-3a44-4c0e-9d2b-authnrequest';
export const RESPONSE_ID = '_response-5f0a';
export const ASSERTION_ID = '_assertion-8c41';

export const authnRequestTemplate = readFileSync(join(CORPUS, 'authn-request.xml'), 'utf8').trim();
export const responseTemplate = readFileSync(join(CORPUS, 'response.xml'), 'utf8').trim();

export interface SignOptions {
  /** Local name of the element to sign (the first one in document order). */
  readonly localName: string;
  readonly key?: TestKey;
  readonly signatureAlgorithm?: string;
  readonly digestAlgorithm?: string;
  readonly transforms?: readonly string[];
  /** Leave KeyInfo out (as Entra's key-identifier signatures carry no certificate). */
  readonly withoutKeyInfo?: boolean;
  /** More elements (by local name) referenced by the same signature. */
  readonly extraReferences?: readonly string[];
  /** InclusiveNamespaces PrefixList on the exc-c14n transform. */
  readonly inclusivePrefixes?: readonly string[];
  /** HMAC "signature" keyed with this secret (the key-confusion attack uses the public certificate). */
  readonly hmacSecret?: string;
}

/** Signs the element enveloped, the Signature placed right after its Issuer as SAML 2.0's schema wants. */
export function sign(xml: string, options: SignOptions): string {
  const key = options.key ?? signingKey;
  const signed = new SignedXml({
    privateKey: options.hmacSecret ?? key.key.privateKey,
    ...(options.withoutKeyInfo || options.hmacSecret !== undefined ? {} : { publicCert: key.certPem }),
    signatureAlgorithm: options.signatureAlgorithm ?? XMLDSIG_ALGORITHMS.rsaSha256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  if (options.hmacSecret !== undefined) {
    signed.enableHMAC();
    signed.signatureAlgorithm = HMAC_SHA1;
  }
  for (const localName of [options.localName, ...(options.extraReferences ?? [])]) {
    signed.addReference({
      xpath: `(//*[local-name(.)='${localName}'])[1]`,
      transforms: [...(options.transforms ?? [ENVELOPED, EXC_C14N])],
      digestAlgorithm: options.digestAlgorithm ?? XMLDSIG_ALGORITHMS.sha256,
      inclusiveNamespacesPrefixList: [...(options.inclusivePrefixes ?? [])],
    });
  }
  signed.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `(//*[local-name(.)='${options.localName}'])[1]/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return signed.getSignedXml();
}

export const signedAuthnRequest = (options: Partial<SignOptions> = {}): string => sign(authnRequestTemplate, { localName: 'AuthnRequest', ...options });
export const responseWithSignedAssertion = (options: Partial<SignOptions> = {}): string => sign(responseTemplate, { localName: 'Assertion', ...options });
export const signedResponse = (options: Partial<SignOptions> = {}): string => sign(responseTemplate, { localName: 'Response', ...options });

// --- DOM surgery for attack variants (a permissive parse: these are the attacker's tools) ---

export function dom(xml: string): Document {
  return new DOMParser().parseFromString(xml, 'text/xml');
}

export function text(doc: Document): string {
  return new XMLSerializer().serializeToString(doc);
}

export function first(parent: Document | Element, ns: string, localName: string): Element {
  const found = parent.getElementsByTagNameNS(ns, localName).item(0);
  if (!found) throw new Error(`no {${ns}}${localName}`);
  return found;
}

export function clone(e: Element): Element {
  return e.cloneNode(true) as Element;
}

/** The element's own ds:Signature child. */
export function ownSignature(e: Element): Element {
  for (let n = e.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === DSIG && (n as Element).localName === 'Signature') return n as Element;
  }
  throw new Error('no own ds:Signature');
}

/** A copy with the attacker's NameID and a fresh ID, its own Signature removed. */
export function evilAssertion(original: Element, id: string): Element {
  const evil = clone(original);
  evil.setAttribute('ID', id);
  try {
    evil.removeChild(ownSignature(evil));
  } catch {
    // already unsigned
  }
  const nameId = first(evil, SAML, 'NameID');
  while (nameId.firstChild) nameId.removeChild(nameId.firstChild);
  const doc = nameId.ownerDocument;
  if (!doc) throw new Error('detached NameID');
  nameId.appendChild(doc.createTextNode('admin@example.test'));
  return evil;
}

export function withoutOwnSignature(e: Element): Element {
  const copy = clone(e);
  copy.removeChild(ownSignature(copy));
  return copy;
}
