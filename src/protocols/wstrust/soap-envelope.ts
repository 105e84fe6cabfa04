import type { Element, Node } from '@xmldom/xmldom';
import { element, namespace, serializeCanonical, type QualifiedAttribute, type XmlChild, type XmlElement } from '../../xml/canonical-xml.js';
import { parseXml, XmlRejectedError } from '../../xml/parse-xml.js';
import { WSU_NS } from '../wsfed/rstr.js';
import { SOAP12_NS, SoapFault, WSA_NS, WSSE_NS } from './soap-fault.js';

/**
 * The SOAP 1.2 envelope of the WS-Trust endpoints (entra-federation.md §3.2): read strictly from
 * the hardened parser's DOM (one Envelope, at most one Header, one Body holding exactly one
 * element), and written with the canonical writer so the assertion inside keeps its bytes.
 */
export interface SoapMessage {
  /** The Header's child elements, in order. */
  readonly headers: readonly Element[];
  /** The one element in the Body. */
  readonly body: Element;
}

/** An RST is a few KiB; this leaves room for long user names and extra headers. */
export const MAX_SOAP_BYTES = 64 * 1024;

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

const malformed = (detail: string) => new SoapFault('request-failed', detail);

/** The element children; text other than whitespace between them is refused. */
export function childElements(parent: Element): Element[] {
  const out: Element[] = [];
  for (let n: Node | null = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE) out.push(n as Element);
    else if ((n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) && (n.nodeValue ?? '').trim() !== '') {
      throw malformed(`text beside the elements of ${parent.localName}`);
    }
  }
  return out;
}

/** The text of an element that holds only text. */
export function textContent(e: Element): string {
  let text = '';
  for (let n: Node | null = e.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) text += n.nodeValue ?? '';
    else if (n.nodeType === ELEMENT_NODE) throw malformed(`element inside ${e.localName}, which holds text`);
  }
  return text;
}

export function isElement(e: Element, ns: string, localName: string): boolean {
  return e.namespaceURI === ns && e.localName === localName;
}

/** The one child with this name, or undefined; two of them are refused (which would be read?). */
export function optionalChild(parent: Element, ns: string, localName: string, fault: (detail: string) => SoapFault = malformed): Element | undefined {
  const found = childElements(parent).filter((e) => isElement(e, ns, localName));
  if (found.length > 1) throw fault(`${found.length} ${localName} in ${parent.localName}`);
  return found[0];
}

export function requiredChild(parent: Element, ns: string, localName: string, fault: (detail: string) => SoapFault = malformed): Element {
  const found = optionalChild(parent, ns, localName, fault);
  if (!found) throw fault(`no ${localName} in ${parent.localName}`);
  return found;
}

/** Parses the request body (every inbound XML goes through parseXml) and checks the envelope's shape. */
export function readSoapEnvelope(body: Buffer): SoapMessage {
  let doc;
  try {
    doc = parseXml(body, { maxBytes: MAX_SOAP_BYTES, maxDepth: 16 });
  } catch (err) {
    if (err instanceof XmlRejectedError) throw malformed(`XML refused: ${err.detail ?? err.reason}`);
    throw err;
  }
  const envelope = doc.documentElement!;
  if (!isElement(envelope, SOAP12_NS, 'Envelope')) throw malformed(`root is {${String(envelope.namespaceURI)}}${envelope.localName} (a SOAP 1.2 Envelope expected)`);
  const parts = childElements(envelope);
  const header = parts.length === 2 && isElement(parts[0]!, SOAP12_NS, 'Header') ? parts[0] : undefined;
  const bodyElement = parts.at(-1);
  if (parts.length !== (header ? 2 : 1) || !bodyElement || !isElement(bodyElement, SOAP12_NS, 'Body')) {
    throw malformed('the Envelope must hold an optional Header and one Body, nothing else');
  }
  const content = childElements(bodyElement);
  if (content.length !== 1) throw malformed(`the Body holds ${content.length} elements`);
  return { headers: header ? childElements(header) : [], body: content[0]! };
}

// The prefixes AD FS uses in its responses.
const S = namespace('s', SOAP12_NS);
const A = namespace('a', WSA_NS);
const O = namespace('o', WSSE_NS);
const U = namespace('u', WSU_NS);
const MUST_UNDERSTAND: QualifiedAttribute = { ns: S, name: 'mustUnderstand', value: '1' };

export interface ResponseEnvelope {
  readonly action: string;
  /** The request's wsa:MessageID. */
  readonly relatesTo: string | undefined;
  /** The response's own wsu:Timestamp (AD FS sends one; WCF clients expect it). */
  readonly created: Date;
  readonly expires: Date;
  readonly body: XmlChild;
}

/** A successful response: the body element embedded as is (the RSTR with its assertion fragment). */
export function writeSoapEnvelope(input: ResponseEnvelope): string {
  const headers: XmlElement[] = [element(A, 'Action', {}, [input.action], { qualifiedAttributes: [MUST_UNDERSTAND] })];
  if (input.relatesTo !== undefined) headers.push(element(A, 'RelatesTo', {}, [input.relatesTo]));
  headers.push(element(O, 'Security', {}, [
    element(U, 'Timestamp', {}, [
      element(U, 'Created', {}, [input.created.toISOString()]),
      element(U, 'Expires', {}, [input.expires.toISOString()]),
    ], { qualifiedAttributes: [{ ns: U, name: 'Id', value: '_0' }] }),
  ], { qualifiedAttributes: [MUST_UNDERSTAND] }));
  return serializeCanonical(element(S, 'Envelope', {}, [element(S, 'Header', {}, headers), element(S, 'Body', {}, [input.body])])).xml;
}
