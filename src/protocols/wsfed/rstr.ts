import { dateTimeValue, element, fillSlots, namespace, serializeCanonical, slot, type CanonicalFragment, type XmlElement, type XmlSlot } from '../../xml/canonical-xml.js';
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

/** The RSTR's values: written into the tree (rstrElement), or slots of the shape writeRstr fills. */
interface RstrValues<V> {
  readonly created: V;
  readonly expires: V;
  readonly appliesTo: V;
  readonly assertion: CanonicalFragment | XmlSlot;
}

function rstrTree<V extends string | XmlSlot>(values: RstrValues<V>, trust: TrustVocabulary): XmlElement {
  const T = namespace(trust.prefix, trust.ns);
  return element(T, 'RequestSecurityTokenResponse', {}, [
    element(T, 'Lifetime', {}, [element(WSU, 'Created', {}, [values.created]), element(WSU, 'Expires', {}, [values.expires])]),
    element(WSP, 'AppliesTo', {}, [
      element(WSA, 'EndpointReference', {}, [element(WSA, 'Address', {}, [values.appliesTo])]),
    ]),
    element(T, 'RequestedSecurityToken', {}, [values.assertion]),
    element(T, 'TokenType', {}, [SAML11_TOKEN_TYPE]),
    element(T, 'RequestType', {}, [trust.issue]),
    element(T, 'KeyType', {}, [trust.bearer]),
  ]);
}

/** The RSTR as an element, to embed in a SOAP body (WS-Trust). */
export function rstrElement(input: RstrInput, trust: TrustVocabulary = TRUST_FEB2005): XmlElement {
  return rstrTree({
    created: dateTimeValue(input.created),
    expires: dateTimeValue(input.expires),
    appliesTo: input.appliesTo,
    assertion: signedAssertionFragment(input.assertion),
  }, trust);
}

// WS-Fed's wresult is written per sign-in: its shape is serialised once, then filled.
const WSFED_RSTR = serializeCanonical(rstrTree({ created: slot('created'), expires: slot('expires'), appliesTo: slot('appliesTo'), assertion: slot('assertion') }, TRUST_FEB2005));

/** The bare Feb-2005 RSTR, serialised alone (WS-Fed's wresult). */
export function writeRstr(input: RstrInput): string {
  return fillSlots(WSFED_RSTR, {
    created: dateTimeValue(input.created),
    expires: dateTimeValue(input.expires),
    appliesTo: input.appliesTo,
    assertion: signedAssertionFragment(input.assertion),
  });
}
