import type { Element } from '@xmldom/xmldom';
import { element, namespace, serializeCanonical, type XmlElement } from '../../xml/canonical-xml.js';
import { parseXml } from '../../xml/parse-xml.js';
import { MEX_NS } from '../wsfed/federation-metadata.js';
import { WSA_NS } from '../wsfed/rstr.js';
import { MEX_INCLUSIVE_PREFIXES, TNS_URI } from './mex-document.js';

/**
 * MEX over SOAP: a POST to /adfs/services/trust/mex is WCF's mexHttpsBinding (SOAP 1.2, WS-Addressing),
 * as svcutil and WCF clients send it to AD FS — either WS-Transfer Get (the action WCF's
 * MetadataExchangeClient uses) or WS-MetadataExchange GetMetadata. Both are answered with the same
 * WSDL inside wsx:Metadata/wsx:MetadataSection. MSAL fetches MEX with a GET and never comes here.
 */

export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';
/** WCF accepts both WS-Addressing versions; the answer uses the request's. */
const WSA_2004_NS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing';
const WSDL_DIALECT = 'http://schemas.xmlsoap.org/wsdl/';

/** Request action -> response action. */
const ACTIONS: ReadonlyMap<string, string> = new Map([
  ['http://schemas.xmlsoap.org/ws/2004/09/transfer/Get', 'http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse'],
  ['http://schemas.xmlsoap.org/ws/2004/09/mex/GetMetadata/Request', 'http://schemas.xmlsoap.org/ws/2004/09/mex/GetMetadata/Response'],
]);

/** A MessageID echoed as RelatesTo: a URI (urn:uuid:…), so printable ASCII without spaces, and short. */
const MESSAGE_ID = /^[\x21-\x7E]{1,256}$/;

export interface MexSoapRequest {
  readonly addressing: string;
  readonly responseAction: string;
  readonly relatesTo: string | undefined;
}

const childElements = (parent: Element, ns: string, name: string): Element[] =>
  Array.from(parent.childNodes).filter((n): n is Element => n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === name);

/** The request's addressing headers, or undefined when the body is not a SOAP 1.2 MEX request. Throws XmlRejectedError on hostile XML. */
export function readMexRequest(body: Buffer): MexSoapRequest | undefined {
  const root = parseXml(body, { maxBytes: 16 * 1024, maxDepth: 16 }).documentElement;
  if (!root || root.namespaceURI !== SOAP12_NS || root.localName !== 'Envelope') return undefined;
  const header = childElements(root, SOAP12_NS, 'Header')[0];
  if (!header) return undefined;
  for (const addressing of [WSA_NS, WSA_2004_NS]) {
    const [action, ...more] = childElements(header, addressing, 'Action');
    if (!action || more.length > 0) continue;
    const responseAction = ACTIONS.get((action.textContent ?? '').trim());
    if (!responseAction) return undefined;
    const messageId = (childElements(header, addressing, 'MessageID')[0]?.textContent ?? '').trim();
    return { addressing, responseAction, relatesTo: MESSAGE_ID.test(messageId) ? messageId : undefined };
  }
  return undefined;
}

/** The SOAP answer carrying the MEX document. */
export function writeMexResponse(request: MexSoapRequest, definitions: XmlElement): string {
  const s = namespace('s', SOAP12_NS);
  const a = namespace('a', request.addressing);
  const wsx = namespace('wsx', MEX_NS);
  const envelope = element(s, 'Envelope', {}, [
    element(s, 'Header', {}, [
      element(a, 'Action', {}, [request.responseAction], { qualifiedAttributes: [{ ns: s, name: 'mustUnderstand', value: '1' }] }),
      ...(request.relatesTo === undefined ? [] : [element(a, 'RelatesTo', {}, [request.relatesTo])]),
    ]),
    element(s, 'Body', {}, [
      element(wsx, 'Metadata', {}, [element(wsx, 'MetadataSection', { Dialect: WSDL_DIALECT, Identifier: TNS_URI }, [definitions])]),
    ]),
  ]);
  return serializeCanonical(envelope, { inclusivePrefixes: MEX_INCLUSIVE_PREFIXES }).xml;
}
