import { dateTimeValue, element, namespace, serializeCanonical, type XmlElement } from '../../xml/canonical-xml.js';
import { SAML11_TOKEN_TYPE, signedAssertionFragment } from './saml11-assertion.js';

/**
 * The wresult of a WS-Fed sign-in response: a bare WS-Trust Feb-2005 RequestSecurityTokenResponse,
 * shaped as AD FS posts it to Entra (entra-federation.md §1.3); WS-Trust's active endpoints answer
 * with the same RSTR, in the request's WS-Trust version (§3.3). Each namespace is declared on the
 * element that uses it (canonical form), so none is in scope over the embedded assertion, whose
 * exclusive canonical form, and so its signature, is the same in place as extracted.
 */

export const WSTRUST_2005_NS = 'http://schemas.xmlsoap.org/ws/2005/02/trust';
export const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
export const WSP_NS = 'http://schemas.xmlsoap.org/ws/2004/09/policy';
export const WSA_NS = 'http://www.w3.org/2005/08/addressing';
export const WSTRUST_2005_ISSUE = 'http://schemas.xmlsoap.org/ws/2005/02/trust/Issue';
export const NO_PROOF_KEY = 'http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey';

const WSU = namespace('wsu', WSU_NS);
const WSP = namespace('wsp', WSP_NS);
const WSA = namespace('wsa', WSA_NS);

export interface RstrInput {
  readonly created: Date;
  readonly expires: Date;
  /** The relying party's identifier (Entra: urn:federation:MicrosoftOnline); must equal the Audience. */
  readonly appliesTo: string;
  /** Exactly what writeSignedSaml11Assertion returned: embedded byte for byte. */
  readonly assertion: string;
}

/**
 * The WS-Trust version an RSTR is written in: Feb-2005 (WS-Fed's wresult, WS-Trust /2005/) or 1.3
 * (WS-Trust /13/, entra-federation.md §3.2).
 */
export interface TrustVocabulary {
  readonly prefix: string;
  readonly ns: string;
  /** t:RequestType */
  readonly issue: string;
  /** t:KeyType of a bearer token (no proof key) */
  readonly bearer: string;
}

export const TRUST_FEB2005: TrustVocabulary = { prefix: 't', ns: WSTRUST_2005_NS, issue: WSTRUST_2005_ISSUE, bearer: NO_PROOF_KEY };

/** The RSTR as an element, to embed in a SOAP body (WS-Trust) or serialise alone (WS-Fed). */
export function rstrElement(input: RstrInput, trust: TrustVocabulary = TRUST_FEB2005): XmlElement {
  const T = namespace(trust.prefix, trust.ns);
  return element(T, 'RequestSecurityTokenResponse', {}, [
    element(T, 'Lifetime', {}, [
      element(WSU, 'Created', {}, [dateTimeValue(input.created)]),
      element(WSU, 'Expires', {}, [dateTimeValue(input.expires)]),
    ]),
    element(WSP, 'AppliesTo', {}, [
      element(WSA, 'EndpointReference', {}, [element(WSA, 'Address', {}, [input.appliesTo])]),
    ]),
    element(T, 'RequestedSecurityToken', {}, [signedAssertionFragment(input.assertion)]),
    element(T, 'TokenType', {}, [SAML11_TOKEN_TYPE]),
    element(T, 'RequestType', {}, [trust.issue]),
    element(T, 'KeyType', {}, [trust.bearer]),
  ]);
}

export function writeRstr(input: RstrInput): string {
  return serializeCanonical(rstrElement(input)).xml;
}
