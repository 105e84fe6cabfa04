import { inflateRawSync } from 'node:zlib';
import type { Request } from 'express';
import type { Document, Element } from '@xmldom/xmldom';
import { badRequest } from '../../core/errors.js';
import { DEFAULT_XML_LIMITS, parseXml } from '../../xml/parse-xml.js';
import { verifyRedirectBindingSignature, verifySignedElement, type QualifiedName } from '../../xml/verify-signed.js';
import { reject } from '../../xml/xml-rejected-error.js';
import { SAML_NS } from './saml-constants.js';
import type { ServiceProvider } from './service-provider.js';

/**
 * A SAML protocol message as it arrives (saml-bindings-2.0-os §3.4 HTTP-Redirect, §3.5 HTTP-POST),
 * in two steps so that nothing is trusted before its sender is known:
 *   readSamlMessage    decode the binding (size caps before and after inflating) and parse with
 *                      THE hardened parser; the Issuer read here only says whose keys to try;
 *   verifySamlMessage  check the signature with that SP's keys (the query signature, or the
 *                      enveloped one) and hand back the element to read: for an enveloped
 *                      signature the verified copy, never the posted DOM.
 */
export type SamlMessageName = 'SAMLRequest' | 'SAMLResponse';

export interface InboundSamlMessage {
  readonly binding: 'redirect' | 'post';
  readonly parameter: SamlMessageName;
  readonly doc: Document;
  /** The root element, read only to find the sender; everything else comes from verifySamlMessage. */
  readonly root: Element;
  /** The Issuer as sent, unverified. */
  readonly issuer: string | undefined;
  readonly relayState: string | undefined;
  /** The raw query string (Redirect binding): its signature covers these exact bytes. */
  readonly rawQuery: string;
  /** The query carries SigAlg and Signature. */
  readonly querySigned: boolean;
  /** The message parameter as the framework decoded it (compared with the signed bytes' decoding). */
  readonly encoded: string;
}

export interface VerifiedSamlMessage {
  /** What to read: the verified copy when the message was signed, the parsed root when unsigned. */
  readonly element: Element;
  readonly signed: boolean;
  readonly relayState: string | undefined;
}

/** RelayState is at most 80 bytes (saml-bindings §3.4.3, §3.5.3); we allow some slack for SPs that exceed it. */
export const MAX_RELAY_STATE = 1024;
/** A DEFLATEd request expands to at most this (a real AuthnRequest is 1–3 KiB). */
const MAX_INFLATED_BYTES = 64 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Where a message arrived: the binding's fields (query or form) and, for Redirect, the raw query its signature covers. */
export interface SamlBindingInput {
  readonly binding: 'redirect' | 'post';
  readonly fields: Readonly<Record<string, unknown>> | undefined;
  readonly rawQuery: string;
}

/** An Express request as a binding input. */
export function bindingInput(req: Request): SamlBindingInput {
  const rawQuery = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
  const binding = req.method === 'POST' ? 'post' : 'redirect';
  return { binding, rawQuery, fields: (binding === 'post' ? req.body : req.query) as Record<string, unknown> | undefined };
}

/** Decodes and parses the message of a Redirect (GET) or POST request; the caller checks it carries one. */
export function readSamlMessage(req: Request, parameter: SamlMessageName): InboundSamlMessage {
  return decodeSamlMessage(bindingInput(req), parameter);
}

export function decodeSamlMessage({ binding, fields, rawQuery }: SamlBindingInput, parameter: SamlMessageName): InboundSamlMessage {
  const encoded = single(fields?.[parameter], parameter);
  const relayState = fields?.RelayState === undefined ? undefined : single(fields.RelayState, 'RelayState');
  if (encoded === undefined) throw badRequest(`no ${parameter}`);
  if (relayState !== undefined && (relayState.length > MAX_RELAY_STATE || /[\u0000-\u001f\u007f]/.test(relayState))) {
    throw badRequest('RelayState is too long or holds control characters');
  }
  const bytes = decodeBase64(encoded);
  const xml = binding === 'redirect' ? inflate(bytes) : bytes;
  const doc = parseXml(xml);
  const root = doc.documentElement!;
  const issuerElement = firstChild(root, SAML_NS.assertion, 'Issuer');
  const issuer = issuerElement ? (issuerElement.textContent ?? '').trim() : undefined;
  const querySigned = binding === 'redirect' && /(?:^|&)Signature=/.test(rawQuery);
  return { binding, parameter, doc, root, issuer, relayState, rawQuery, querySigned, encoded };
}

/** Whether the request carries a SAML message of this name in its binding's place. */
export function hasSamlMessage(req: Request, parameter: SamlMessageName): boolean {
  const fields = (req.method === 'POST' ? req.body : req.query) as Record<string, unknown> | undefined;
  return fields?.[parameter] !== undefined;
}

/**
 * Checks the message's signature with the SP's keys and algorithms. Present signatures are always
 * checked; an unsigned message is refused when the SP requires signed requests.
 */
export function verifySamlMessage(message: InboundSamlMessage, sp: ServiceProvider, expected: readonly QualifiedName[]): VerifiedSamlMessage {
  const { root } = message;
  if (!expected.some((n) => n.ns === root.namespaceURI && n.localName === root.localName)) {
    reject('unexpected-element', `{${root.namespaceURI ?? ''}}${root.localName ?? ''} where ${expected.map((n) => n.localName).join(' or ')} was expected`);
  }
  const signed = message.querySigned || firstChild(root, 'http://www.w3.org/2000/09/xmldsig#', 'Signature') !== undefined;
  // A signature from an SP whose keys we do not hold cannot be checked: the sender's fault (400), not a fault of ours (the verifiers' 500).
  if (signed && sp.signingCertificates.length === 0) reject('untrusted-key', `${sp.entityId} has no signing certificate to check the signature with`);
  if (message.querySigned) {
    const verified = verifyRedirectBindingSignature({ raw: message.rawQuery }, sp.signingCertificates, sp.requestSignatureAlgorithms);
    // What was parsed must be what was signed: the framework's decoding of the query and the
    // verifier's must agree byte for byte, or someone is playing one against the other.
    if (verified.parameter !== message.parameter || verified.message !== message.encoded || verified.relayState !== message.relayState) {
      reject('redirect-malformed', 'the signed query parameters differ from the ones read');
    }
    return { element: root, signed: true, relayState: verified.relayState };
  }
  if (signed) {
    const verified = verifySignedElement(message.doc, {
      idAttribute: 'ID',
      trustedCertificates: sp.signingCertificates,
      allowedSignatureAlgorithms: sp.requestSignatureAlgorithms,
      allowedDigestAlgorithms: sp.requestDigestAlgorithms,
      expectedRootNames: expected,
    });
    // POST's RelayState is outside the signature: it is only ever echoed, never interpreted.
    return { element: verified.element, signed: true, relayState: message.relayState };
  }
  // Entra signs AuthnRequests when told to but never its sign-out (§2.5): refusing that would leave
  // the person signed in here; an unsigned LogoutRequest can at worst sign someone out.
  const entraLogout = sp.profile === 'entra' && root.localName === 'LogoutRequest';
  if (sp.requireSignedRequests && !entraLogout) reject('signature-missing', `${sp.entityId} requires signed requests`);
  return { element: root, signed: false, relayState: message.relayState };
}

export function firstChild(parent: Element, ns: string, localName: string): Element | undefined {
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === localName) return n as Element;
  }
  return undefined;
}

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(`${name} is not a single value`);
  return value;
}

function decodeBase64(value: string): Buffer {
  // Browsers and SPs wrap long base64 lines; anything else is not base64.
  const compact = value.replace(/[\r\n\t ]+/g, '');
  if (compact.length > Math.ceil(DEFAULT_XML_LIMITS.maxBytes / 3) * 4) reject('too-large', 'the encoded message is too long');
  if (!BASE64.test(compact) || compact.length % 4 === 1) throw badRequest('the SAML message is not base64');
  return Buffer.from(compact, 'base64');
}

function inflate(bytes: Buffer): Buffer {
  try {
    // maxOutputLength stops a DEFLATE bomb while it inflates, not after.
    return inflateRawSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (err) {
    if (err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') reject('too-large', `the message inflates beyond ${MAX_INFLATED_BYTES} bytes`);
    throw badRequest('the SAMLRequest is not DEFLATE-compressed');
  }
}
