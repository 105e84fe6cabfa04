import { element, namespace, serializeCanonical, type XmlElement } from '../../xml/canonical-xml.js';
import { WSA_NS, WSP_NS, WSU_NS } from '../wsfed/rstr.js';
import type { WsTrustEndpoint, WsTrustEndpointKind, WsTrustVersion } from './mex-endpoints.js';
import { TRUST_13, TRUST_2005, type TrustVersion } from './trust-version.js';

/**
 * The WS-Trust MEX document (entra-federation.md §3.4): a WSDL listing fedgate's enabled WS-Trust
 * endpoints with the policies AD FS publishes for them. Clients do not read it as WSDL but by
 * fixed paths (MSAL's mex.py and MexParser): wsp:Policy directly under wsdl:definitions with a
 * literal `wsu:Id`; the username policies' TransportBinding and (Signed|SignedEncrypted)
 * SupportingTokens/UsernameToken/WssUsernameToken10 under wsp:ExactlyOne/wsp:All; Kerberos
 * policies recognised by http:NegotiateAuthentication beside a 2005 TransportBinding (even on the
 * 1.3 endpoint, as AD FS writes it); each wsdl:binding's soap12:binding transport and
 * soap12:operation soapAction giving the WS-Trust version; each port's wsa10 Address. So the
 * prefixes, binding names and nesting below are AD FS's, not free choices.
 */

export const TNS_URI = 'http://schemas.microsoft.com/ws/2008/06/identity/securitytokenservice';
const SOAP_HTTP_TRANSPORT = 'http://schemas.xmlsoap.org/soap/http';

const WSDL = namespace('wsdl', 'http://schemas.xmlsoap.org/wsdl/');
const SOAP12 = namespace('soap12', 'http://schemas.xmlsoap.org/wsdl/soap12/');
const WSP = namespace('wsp', WSP_NS);
const WSU = namespace('wsu', WSU_NS);
const WSAW = namespace('wsaw', 'http://www.w3.org/2006/05/addressing/wsdl');
const WSA10 = namespace('wsa10', WSA_NS);
const HTTP = namespace('http', 'http://schemas.microsoft.com/ws/06/2004/policy/http');
const MSSP = namespace('mssp', 'http://schemas.microsoft.com/ws/2005/07/securitypolicy');
const IDENTITY = namespace('', 'http://schemas.xmlsoap.org/ws/2006/02/addressingidentity');
/** WS-SecurityPolicy: AD FS writes both versions with the prefix `sp`. */
const SP2005 = namespace('sp', 'http://schemas.xmlsoap.org/ws/2005/07/securitypolicy');
const SP13 = namespace('sp', 'http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702');
/** Prefixes used only inside attribute values (QNames): declared on wsdl:definitions. */
const TNS = namespace('tns', TNS_URI);
const T2005 = namespace(TRUST_2005.prefix, TRUST_2005.ns);
const T13 = namespace(TRUST_13.prefix, TRUST_13.ns);
export const MEX_INCLUSIVE_PREFIXES = [TNS.prefix, T2005.prefix, T13.prefix] as const;

interface VersionNames {
  /** Actions and namespaces, as the endpoints use them. */
  readonly trustVersion: TrustVersion;
  readonly sp: typeof SP2005;
  readonly portType: string;
  readonly operation: string;
  readonly trust: typeof T2005;
  readonly response: string;
  readonly trustAssertion: string;
}
const VERSIONS: Readonly<Record<WsTrustVersion, VersionNames>> = {
  '2005': { trustVersion: TRUST_2005, sp: SP2005, portType: 'IWSTrustFeb2005Async', operation: 'TrustFeb2005IssueAsync', trust: T2005, response: 'RequestSecurityTokenResponse', trustAssertion: 'Trust10' },
  '13': { trustVersion: TRUST_13, sp: SP13, portType: 'IWSTrust13Async', operation: 'Trust13IssueAsync', trust: T13, response: 'RequestSecurityTokenResponseCollection', trustAssertion: 'Trust13' },
};

/** AD FS's binding names (§3.4); the policy of binding N has wsu:Id N_policy. */
const BINDING_NAMES: Readonly<Record<WsTrustEndpointKind, Readonly<Record<WsTrustVersion, string>>>> = {
  usernamemixed: { '2005': 'UserNameWSTrustBinding_IWSTrustFeb2005Async', '13': 'UserNameWSTrustBinding_IWSTrust13Async' },
  windowstransport: { '2005': 'CustomBinding_IWSTrustFeb2005Async', '13': 'CustomBinding_IWSTrust13Async1' },
};

export function bindingName(endpoint: Pick<WsTrustEndpoint, 'kind' | 'version'>): string {
  return BINDING_NAMES[endpoint.kind][endpoint.version];
}

/** <sp:Name><wsp:Policy>…</wsp:Policy></sp:Name>: how WS-SecurityPolicy nests every assertion. */
function nested(sp: typeof SP2005, name: string, children: readonly XmlElement[], attributes: Record<string, string> = {}, options = {}): XmlElement {
  return element(sp, name, attributes, [element(WSP, 'Policy', {}, children)], options);
}

function transportBinding(sp: typeof SP2005, includeTimestamp: boolean): XmlElement {
  // The 2005 HttpsToken states RequireClientCertificate="false"; the 1.3 one has no such attribute.
  const https = element(sp, 'HttpsToken', sp === SP2005 ? { RequireClientCertificate: 'false' } : {});
  return nested(sp, 'TransportBinding', [
    nested(sp, 'TransportToken', [https]),
    nested(sp, 'AlgorithmSuite', [element(sp, 'Basic256')]),
    nested(sp, 'Layout', [element(sp, 'Strict')]),
    ...(includeTimestamp ? [element(sp, 'IncludeTimestamp')] : []),
  ]);
}

function includeToken(sp: typeof SP2005, when: 'AlwaysToRecipient' | 'Never') {
  return { ns: sp, name: 'IncludeToken', value: `${sp.uri}/IncludeToken/${when}` };
}

/** UserName over TLS ("mixed"): the policy MSAL's username/password flow selects. */
function usernameMixedPolicy(version: WsTrustVersion): XmlElement[] {
  const { sp, trustAssertion } = VERSIONS[version];
  const supporting = version === '13' ? 'SignedEncryptedSupportingTokens' : 'SignedSupportingTokens';
  // The optional proof-of-possession key AD FS allows: mssp:RsaToken on 2005, sp:KeyValueToken on 1.3.
  const optionalKey = version === '13'
    ? element(sp, 'KeyValueToken', {}, [], { qualifiedAttributes: [includeToken(sp, 'Never'), { ns: WSP, name: 'Optional', value: 'true' }] })
    : element(MSSP, 'RsaToken', {}, [], { qualifiedAttributes: [includeToken(sp, 'Never'), { ns: WSP, name: 'Optional', value: 'true' }] });
  return [
    transportBinding(sp, true),
    nested(sp, supporting, [
      nested(sp, 'UsernameToken', [element(sp, 'WssUsernameToken10')], {}, { qualifiedAttributes: [includeToken(sp, 'AlwaysToRecipient')] }),
    ]),
    nested(sp, 'EndorsingSupportingTokens', [
      optionalKey,
      element(sp, 'SignedParts', {}, [element(sp, 'Header', { Name: 'To', Namespace: WSA_NS })]),
    ]),
    nested(sp, 'Wss11', ['MustSupportRefKeyIdentifier', 'MustSupportRefIssuerSerial', 'MustSupportRefThumbprint', 'MustSupportRefEncryptedKey'].map((n) => element(sp, n))),
    nested(sp, trustAssertion, ['MustSupportIssuedTokens', 'RequireClientEntropy', 'RequireServerEntropy'].map((n) => element(sp, n))),
  ];
}

/** Kerberos at the HTTP layer (SPNEGO): AD FS writes the same 2005 policy for both versions. */
function windowsTransportPolicy(): XmlElement[] {
  return [element(HTTP, 'NegotiateAuthentication'), transportBinding(SP2005, false)];
}

function policy(endpoint: WsTrustEndpoint): XmlElement {
  const assertions = endpoint.kind === 'usernamemixed' ? usernameMixedPolicy(endpoint.version) : windowsTransportPolicy();
  return element(WSP, 'Policy', {}, [
    element(WSP, 'ExactlyOne', {}, [element(WSP, 'All', {}, [...assertions, element(WSAW, 'UsingAddressing')])]),
  ], { qualifiedAttributes: [{ ns: WSU, name: 'Id', value: `${bindingName(endpoint)}_policy` }] });
}

function messages(version: WsTrustVersion): XmlElement[] {
  const { portType, operation, trust, response } = VERSIONS[version];
  return [
    element(WSDL, 'message', { name: `${portType}_${operation}_InputMessage` }, [
      element(WSDL, 'part', { element: `${trust.prefix}:RequestSecurityToken`, name: 'request' }),
    ]),
    element(WSDL, 'message', { name: `${portType}_${operation}_OutputMessage` }, [
      element(WSDL, 'part', { element: `${trust.prefix}:${response}`, name: `${operation}Result` }),
    ]),
  ];
}

function portType(version: WsTrustVersion): XmlElement {
  const { portType: name, operation, trustVersion } = VERSIONS[version];
  const action = (value: string) => [{ ns: WSAW, name: 'Action', value }];
  return element(WSDL, 'portType', { name }, [
    element(WSDL, 'operation', { name: operation }, [
      element(WSDL, 'input', { message: `tns:${name}_${operation}_InputMessage` }, [], { qualifiedAttributes: action(trustVersion.requestAction) }),
      element(WSDL, 'output', { message: `tns:${name}_${operation}_OutputMessage` }, [], { qualifiedAttributes: action(trustVersion.responseAction) }),
    ]),
  ]);
}

function binding(endpoint: WsTrustEndpoint): XmlElement {
  const name = bindingName(endpoint);
  const { portType: type, operation, trustVersion } = VERSIONS[endpoint.version];
  const literal = [element(SOAP12, 'body', { use: 'literal' })];
  return element(WSDL, 'binding', { name, type: `tns:${type}` }, [
    element(WSP, 'PolicyReference', { URI: `#${name}_policy` }),
    element(SOAP12, 'binding', { transport: SOAP_HTTP_TRANSPORT }),
    element(WSDL, 'operation', { name: operation }, [
      element(SOAP12, 'operation', { soapAction: trustVersion.requestAction, style: 'document' }),
      element(WSDL, 'input', {}, literal),
      element(WSDL, 'output', {}, literal),
    ]),
  ]);
}

function port(endpoint: WsTrustEndpoint): XmlElement {
  const name = bindingName(endpoint);
  // Windows asks the KDC for a ticket to this identity before it calls windowstransport.
  const identity = endpoint.spn === undefined ? [] : [element(IDENTITY, 'Identity', {}, [element(IDENTITY, 'Spn', {}, [endpoint.spn])])];
  return element(WSDL, 'port', { binding: `tns:${name}`, name }, [
    element(SOAP12, 'address', { location: endpoint.address }),
    element(WSA10, 'EndpointReference', {}, [element(WSA10, 'Address', {}, [endpoint.address]), ...identity]),
  ]);
}

/** The wsdl:definitions element, for the GET document and inside the GetMetadata answer. */
export function mexDefinitions(endpoints: readonly WsTrustEndpoint[]): XmlElement {
  const versions = (['2005', '13'] as const).filter((v) => endpoints.some((e) => e.version === v));
  return element(WSDL, 'definitions', { name: 'SecurityTokenService', targetNamespace: TNS_URI }, [
    ...endpoints.map(policy),
    ...versions.flatMap(messages),
    ...versions.map(portType),
    ...endpoints.map(binding),
    element(WSDL, 'service', { name: 'SecurityTokenService' }, endpoints.map(port)),
  ], { declare: [TNS, T2005, T13] });
}

/** The MEX document served at GET /adfs/services/trust/mex (no XML declaration, not signed: AD FS's is not either). */
export function writeMexDocument(endpoints: readonly WsTrustEndpoint[]): string {
  return serializeCanonical(mexDefinitions(endpoints), { inclusivePrefixes: MEX_INCLUSIVE_PREFIXES }).xml;
}
