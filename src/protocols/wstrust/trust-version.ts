import { TRUST_FEB2005, type TrustVocabulary } from '../wsfed/rstr.js';

/**
 * The two WS-Trust versions AD FS serves, each at its own path (…/trust/2005/… and …/trust/13/…),
 * with the exact namespaces and actions of entra-federation.md §3.2–§3.3. A request must use the
 * version of the endpoint it was sent to.
 */
export interface TrustVersion extends TrustVocabulary {
  /** The path segment: /adfs/services/trust/{path}/usernamemixed. */
  readonly path: '2005' | '13';
  /** wsa:Action (and SOAPAction) of the RST. */
  readonly requestAction: string;
  /** wsa:Action of the successful response. */
  readonly responseAction: string;
  /** 1.3 answers with a RequestSecurityTokenResponseCollection, 2005 with a bare RSTR (§3.3). */
  readonly collection: boolean;
}

export const WSTRUST_13_NS = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512';

export const TRUST_2005: TrustVersion = {
  ...TRUST_FEB2005,
  path: '2005',
  requestAction: 'http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue',
  responseAction: 'http://schemas.xmlsoap.org/ws/2005/02/trust/RSTR/Issue',
  collection: false,
};

export const TRUST_13: TrustVersion = {
  prefix: 'trust',
  ns: WSTRUST_13_NS,
  issue: `${WSTRUST_13_NS}/Issue`,
  bearer: `${WSTRUST_13_NS}/Bearer`,
  path: '13',
  requestAction: `${WSTRUST_13_NS}/RST/Issue`,
  responseAction: `${WSTRUST_13_NS}/RSTRC/IssueFinal`,
  collection: true,
};

export const TRUST_VERSIONS: readonly TrustVersion[] = [TRUST_2005, TRUST_13];

/**
 * KeyType values that ask for a bearer token, the only kind issued (no proof key): MSAL sends the
 * version's own (§3.2); the other version's spelling means the same and is accepted too.
 */
export const BEARER_KEY_TYPES: readonly string[] = [TRUST_2005.bearer, TRUST_13.bearer];
