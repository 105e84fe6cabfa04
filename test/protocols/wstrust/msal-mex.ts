/**
 * A client's reading of a MEX document, written from the reference and not from fedgate's
 * generator: MSAL for Python's mex.py (entra-federation.md §3.4, S19) with MSAL for Java's
 * MexParser where it is stricter (the policy's `wsu:Id` read by its literal qualified name, the
 * TransportBinding directly under wsp:All). Parsed with node-saml's @xmldom/xmldom 0.8 and xpath,
 * not the @xmldom 0.9 fedgate's own XML code uses.
 *
 * The rules: a username/password policy is a top-level wsp:Policy with
 * ExactlyOne/All/sp:SignedEncryptedSupportingTokens/Policy/sp:UsernameToken/Policy/sp:WssUsernameToken10
 * (sp = 200702) and an sp:TransportBinding, or the same with sp2005:SignedSupportingTokens and an
 * sp2005:TransportBinding; an integrated (Kerberos) policy has ExactlyOne/All/http:NegotiateAuthentication
 * and an sp2005:TransportBinding. A wsdl:binding counts when its soap12:binding transport is SOAP over
 * HTTP; its soapAction gives the version and its wsp:PolicyReference URI the policy ("#" + wsu:Id).
 * A wsdl:port whose binding (the QName's local part) is such a binding gives its
 * wsa10:EndpointReference/wsa10:Address, used only when it starts with https://. WS-Trust 1.3 is
 * preferred over 2005.
 */
import { DOMParser, xpath, type DomNode } from '../../harness/independent-xml.js';

/** mex.py's Mex.NS, as MSAL spells it. */
const select = xpath.useNamespaces({
  wsdl: 'http://schemas.xmlsoap.org/wsdl/',
  sp: 'http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702',
  sp2005: 'http://schemas.xmlsoap.org/ws/2005/07/securitypolicy',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wsa10: 'http://www.w3.org/2005/08/addressing',
  http: 'http://schemas.microsoft.com/ws/06/2004/policy/http',
  soap12: 'http://schemas.xmlsoap.org/wsdl/soap12/',
  wsp: 'http://schemas.xmlsoap.org/ws/2004/09/policy',
});

export const ACTION_13 = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue';
export const ACTION_2005 = 'http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue';
const SOAP_HTTP = 'http://schemas.xmlsoap.org/soap/http';

export interface MexEndpoint {
  readonly address: string;
  readonly action: string;
}

export interface MexAsSeenByMsal {
  /** Every username/password endpoint MSAL could use, in document order. */
  readonly usernamePasswordEndpoints: readonly MexEndpoint[];
  /** The one MSAL picks (get_wstrust_username_password_endpoint). */
  readonly usernamePassword: MexEndpoint | undefined;
  /** Every integrated Windows authentication (NegotiateAuthentication) endpoint. */
  readonly integratedEndpoints: readonly MexEndpoint[];
  /** The one MSAL picks for integrated Windows authentication. */
  readonly integrated: MexEndpoint | undefined;
}

const USERNAME_13 = 'wsp:ExactlyOne/wsp:All/sp:SignedEncryptedSupportingTokens/wsp:Policy/sp:UsernameToken/wsp:Policy/sp:WssUsernameToken10';
const USERNAME_2005 = 'wsp:ExactlyOne/wsp:All/sp2005:SignedSupportingTokens/wsp:Policy/sp2005:UsernameToken/wsp:Policy/sp2005:WssUsernameToken10';
const NEGOTIATE = 'wsp:ExactlyOne/wsp:All/http:NegotiateAuthentication';

function policyIds(doc: DomNode, leaf: string, transportBinding: string): Set<string> {
  const policies = select(`/wsdl:definitions/wsp:Policy[${leaf}][wsp:ExactlyOne/wsp:All/${transportBinding}]`, doc);
  // MSAL for Java: node.getAttributes().getNamedItem("wsu:Id"), the attribute's literal name.
  return new Set(policies.map((p) => p.getAttribute('wsu:Id')).filter((id): id is string => id !== null).map((id) => `#${id}`));
}

function endpoints(doc: DomNode, ids: ReadonlySet<string>): MexEndpoint[] {
  const bindings = new Map<string, { policy: string; action: string }>();
  for (const binding of select('/wsdl:definitions/wsdl:binding', doc)) {
    if (select('soap12:binding', binding)[0]?.getAttribute('transport') !== SOAP_HTTP) continue;
    const action = select('wsdl:operation/soap12:operation', binding)[0]?.getAttribute('soapAction') ?? '';
    for (const reference of select('wsp:PolicyReference', binding)) {
      bindings.set(binding.getAttribute('name') ?? '', { policy: reference.getAttribute('URI') ?? '', action });
    }
  }
  const found: MexEndpoint[] = [];
  for (const port of select('/wsdl:definitions/wsdl:service/wsdl:port', doc)) {
    const binding = bindings.get((port.getAttribute('binding') ?? '').split(':').at(-1)!);
    if (!binding || !ids.has(binding.policy)) continue;
    const address = select('wsa10:EndpointReference/wsa10:Address', port)[0]?.textContent?.trim();
    if (address !== undefined && address.toLowerCase().startsWith('https://')) found.push({ address, action: binding.action });
  }
  return found;
}

const prefer13 = (list: readonly MexEndpoint[]) => list.find((e) => e.action === ACTION_13) ?? list[0];

export function readMexAsMsal(xml: string): MexAsSeenByMsal {
  const errors: string[] = [];
  const fail = (msg: string) => { errors.push(msg); };
  const doc = new DOMParser({ errorHandler: { warning: () => undefined, error: fail, fatalError: fail } }).parseFromString(xml, 'text/xml');
  if (errors.length > 0) throw new Error(`MEX not well-formed: ${errors.join('; ')}`);
  const username = policyIds(doc, USERNAME_13, 'sp:TransportBinding');
  for (const id of policyIds(doc, USERNAME_2005, 'sp2005:TransportBinding')) username.add(id);
  const usernamePasswordEndpoints = endpoints(doc, username);
  const integratedEndpoints = endpoints(doc, policyIds(doc, NEGOTIATE, 'sp2005:TransportBinding'));
  return {
    usernamePasswordEndpoints, usernamePassword: prefer13(usernamePasswordEndpoints),
    integratedEndpoints, integrated: prefer13(integratedEndpoints),
  };
}
