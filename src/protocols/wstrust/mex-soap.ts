import { element, namespace, serializeCanonical, type XmlElement } from '../../xml/canonical-xml.js';
import { parseXml, XmlRejectedError } from '../../xml/parse-xml.js';
import { MEX_NS } from '../wsfed/federation-metadata.js';
import { WSA_NS } from '../wsfed/rstr.js';
import { MEX_INCLUSIVE_PREFIXES, TNS_URI } from './mex-document.js';
import { childElements, isElement, MAX_SOAP_BYTES, textContent } from './soap-envelope.js';
import { SOAP12_NS, SoapFault } from './soap-fault.js';

/**
 * MEX over SOAP: a POST to /adfs/services/trust/mex is WCF's mexHttpsBinding (SOAP 1.2, WS-Addressing),
 * as svcutil and WCF clients send it to AD FS — either WS-Transfer Get (the action WCF's
 * MetadataExchangeClient uses, with an empty Body) or WS-MetadataExchange GetMetadata. Both are
 * answered with the same WSDL inside wsx:Metadata/wsx:MetadataSection. MSAL fetches MEX with a GET
 * and never comes here. Refusals are the WS-Trust endpoints' SoapFaults.
 */

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

const malformed = (detail: string) => new SoapFault('request-failed', detail);

/** The request's addressing headers; a SoapFault for anything that is not a SOAP 1.2 MEX request. */
export function readMexRequest(body: Buffer): MexSoapRequest {
  let root;
  try {
    root = parseXml(body, { maxBytes: MAX_SOAP_BYTES, maxDepth: 16 }).documentElement!;
  } catch (err) {
    if (err instanceof XmlRejectedError) throw malformed(`XML refused: ${err.detail ?? err.reason}`);
    throw err;
  }
  if (!isElement(root, SOAP12_NS, 'Envelope')) throw malformed(`root is {${String(root.namespaceURI)}}${root.localName} (a SOAP 1.2 Envelope expected)`);
  const headers = childElements(root).filter((e) => isElement(e, SOAP12_NS, 'Header')).flatMap(childElements);
  for (const addressing of [WSA_NS, WSA_2004_NS]) {
    const named = (name: string) => headers.filter((h) => isElement(h, addressing, name));
    const actions = named('Action');
    if (actions.length === 0) continue;
    const action = actions.length === 1 ? textContent(actions[0]!).trim() : '';
    const responseAction = ACTIONS.get(action);
    if (!responseAction) throw new SoapFault('action-not-supported', `action ${action || `(${actions.length})`}`);
    const ids = named('MessageID');
    const messageId = ids.length === 1 ? textContent(ids[0]!).trim() : '';
    return { addressing, responseAction, relatesTo: MESSAGE_ID.test(messageId) ? messageId : undefined };
  }
  throw new SoapFault('action-not-supported', 'no wsa:Action');
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
