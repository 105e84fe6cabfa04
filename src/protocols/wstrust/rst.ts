import type { Element } from '@xmldom/xmldom';
import { SAML11_TOKEN_TYPE } from '../wsfed/saml11-assertion.js';
import { SOAP12_NS, SoapFault, WSA_NS, WSSE_NS } from './soap-fault.js';
import { childElements, isElement, optionalChild, requiredChild, textContent, type SoapMessage } from './soap-envelope.js';
import { BEARER_KEY_TYPES, TRUST_VERSIONS, type TrustVersion } from './trust-version.js';
import { readSecurityHeader, type WsSecurityHeader } from './ws-security.js';

/**
 * A RequestSecurityToken (Issue) as MSAL, Exchange and Windows send it (entra-federation.md §3.2),
 * whatever proves the caller: the UsernameToken (usernamemixed) is only read here, never required,
 * so windowstransport (Kerberos at the HTTP layer) reads its RSTs with the same function.
 */
export interface WsTrustRequest {
  readonly version: TrustVersion;
  /** wsa:Action, when the header carries one. */
  readonly action: string | undefined;
  /** wsa:MessageID when usable as wsa:RelatesTo of the answer. */
  readonly messageId: string | undefined;
  /** wsp:AppliesTo/wsa:EndpointReference/wsa:Address: the relying party asked for. */
  readonly appliesTo: string;
  readonly security: WsSecurityHeader | undefined;
}

const WSP_NAMESPACES = ['http://schemas.xmlsoap.org/ws/2004/09/policy', 'http://www.w3.org/ns/ws-policy'];
// Pre-2005 WS-Trust clients address AppliesTo with the 2004/08 submission of WS-Addressing.
const WSA_NAMESPACES = [WSA_NS, 'http://schemas.xmlsoap.org/ws/2004/08/addressing'];
const SAML11_TOKEN_TYPES = [SAML11_TOKEN_TYPE, 'http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV1.1'];
/** A MessageID echoed back: printable, bounded (it is the client's, not ours). */
const USABLE_MESSAGE_ID = /^[\x21-\x7e]{1,256}$/;

const failed = (detail: string) => new SoapFault('request-failed', detail);

/** Headers fedgate processes: any other one marked mustUnderstand is refused (SOAP 1.2 §5.2.3). */
const UNDERSTOOD: readonly (readonly [string, string])[] = [
  [WSA_NS, 'Action'], [WSA_NS, 'MessageID'], [WSA_NS, 'To'], [WSA_NS, 'ReplyTo'], [WSSE_NS, 'Security'],
];

function mustUnderstand(header: Element): boolean {
  const value = header.getAttributeNS(SOAP12_NS, 'mustUnderstand');
  return value === '1' || value === 'true';
}

function headerNamed(headers: readonly Element[], ns: string, localName: string): Element | undefined {
  const found = headers.filter((h) => isElement(h, ns, localName));
  // Two Security (or Action) headers: which one would be believed? Neither.
  if (found.length > 1) throw failed(`${found.length} ${localName} headers`);
  return found[0];
}

/** The one wsa:Address of AppliesTo, in any namespace spelling clients use. */
function appliesToAddress(rst: Element): string {
  const appliesTo = childElements(rst).filter((e) => e.localName === 'AppliesTo' && WSP_NAMESPACES.includes(e.namespaceURI ?? ''));
  if (appliesTo.length !== 1) throw failed(`${appliesTo.length} wsp:AppliesTo in the RST`);
  const references = childElements(appliesTo[0]!).filter((e) => e.localName === 'EndpointReference' && WSA_NAMESPACES.includes(e.namespaceURI ?? ''));
  if (references.length !== 1) throw failed(`${references.length} EndpointReference in wsp:AppliesTo`);
  const reference = references[0]!;
  const address = textContent(requiredChild(reference, reference.namespaceURI!, 'Address')).trim();
  if (address === '') throw failed('empty AppliesTo address');
  return address;
}

function readBody(rst: Element, version: TrustVersion): string {
  if (!isElement(rst, version.ns, 'RequestSecurityToken')) {
    const other = TRUST_VERSIONS.find((v) => isElement(rst, v.ns, 'RequestSecurityToken'));
    throw failed(other ? `a WS-Trust ${other.path} RST at the ${version.path} endpoint` : `the Body holds {${String(rst.namespaceURI)}}${rst.localName}, not an RST`);
  }
  const requestType = textContent(requiredChild(rst, version.ns, 'RequestType')).trim();
  if (requestType !== version.issue) throw failed(`RequestType ${requestType}`);
  const keyType = optionalChild(rst, version.ns, 'KeyType');
  // Only bearer tokens are issued: a request for a proof key must not get a token without one.
  if (keyType && !BEARER_KEY_TYPES.includes(textContent(keyType).trim())) throw failed(`KeyType ${textContent(keyType).trim()}`);
  const tokenType = optionalChild(rst, version.ns, 'TokenType');
  if (tokenType && !SAML11_TOKEN_TYPES.includes(textContent(tokenType).trim())) throw failed(`TokenType ${textContent(tokenType).trim()} (SAML 1.1 is issued)`);
  // Other RST elements (Lifetime, Claims, extensions) are requests fedgate may ignore (WS-Trust §3.1).
  return appliesToAddress(rst);
}

/**
 * The request's wsa:MessageID, to echo as wsa:RelatesTo, faults included: read before anything
 * else can fail, and only when it is unambiguous and printable.
 */
export function messageIdOf(message: SoapMessage): string | undefined {
  const ids = message.headers.filter((h) => isElement(h, WSA_NS, 'MessageID'));
  const id = ids.length === 1 ? ids[0]!.textContent?.trim() : undefined;
  return id !== undefined && USABLE_MESSAGE_ID.test(id) ? id : undefined;
}

/**
 * Reads an RST for one endpoint's version; every refusal is a SoapFault. The action may be given
 * three ways (wsa:Action, and from the HTTP request `transportActions`: SOAPAction, the
 * Content-Type action parameter): at least one is required, and every one given must be this
 * endpoint's, checked before the body is read.
 */
export function readRst(message: SoapMessage, version: TrustVersion, transportActions: readonly string[]): WsTrustRequest {
  for (const header of message.headers) {
    if (mustUnderstand(header) && !UNDERSTOOD.some(([ns, name]) => isElement(header, ns, name))) {
      throw new SoapFault('must-understand', `header {${String(header.namespaceURI)}}${header.localName} is marked mustUnderstand`);
    }
  }
  const actionHeader = headerNamed(message.headers, WSA_NS, 'Action');
  const action = actionHeader ? textContent(actionHeader).trim() : undefined;
  const given = [...(action === undefined ? [] : [action]), ...transportActions];
  if (given.length === 0) throw new SoapFault('action-not-supported', 'no action (wsa:Action, SOAPAction or Content-Type action)');
  const wrong = given.find((a) => a !== version.requestAction);
  if (wrong !== undefined) throw new SoapFault('action-not-supported', `action ${wrong} at the WS-Trust ${version.path} endpoint`);

  headerNamed(message.headers, WSA_NS, 'MessageID'); // two MessageIDs are refused like any repeated header
  const security = headerNamed(message.headers, WSSE_NS, 'Security');
  return {
    version,
    action,
    messageId: messageIdOf(message),
    appliesTo: readBody(message.body, version),
    security: security ? readSecurityHeader(security) : undefined,
  };
}
