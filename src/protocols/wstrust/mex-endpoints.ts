import type { Config } from '../../config/schema.js';
import type { TrustVersion } from './trust-version.js';

/**
 * Which WS-Trust endpoints fedgate serves, as the MEX document, the federation metadata and
 * `fedgate entra-domain` announce them (entra-federation.md §3.4, §3.5, §4). One decision, read
 * by all three, so that nothing points clients at an endpoint that is switched off.
 */
export const MEX_PATH = '/adfs/services/trust/mex';

export type WsTrustVersion = TrustVersion['path'];
export type WsTrustEndpointKind = 'usernamemixed' | 'windowstransport';

export interface WsTrustEndpoint {
  readonly kind: WsTrustEndpointKind;
  readonly version: WsTrustVersion;
  /** Absolute URL at AD FS's path under server.baseUrl. */
  readonly address: string;
  /** windowstransport only: the service principal clients ask a Kerberos ticket for (HTTP/host). */
  readonly spn?: string;
}

/** The path AD FS serves an endpoint at, e.g. /adfs/services/trust/13/usernamemixed. */
export function wsTrustPath(kind: WsTrustEndpointKind, version: WsTrustVersion): string {
  return `/adfs/services/trust/${version}/${kind}`;
}

/**
 * The service principal of windowstransport: authn.kerberos.servicePrincipal without its realm
 * (WCF's Identity/Spn names the service, the KDC adds the realm), else HTTP/<host of baseUrl>,
 * the name browsers already ask tickets for.
 */
function servicePrincipalName(config: Config): string {
  const configured = config.authn.kerberos?.servicePrincipal;
  if (configured) return configured.replace(/@.*$/, '');
  return `HTTP/${new URL(config.server.baseUrl).hostname}`;
}

/**
 * The enabled endpoints, 1.3 before 2005 for each kind. windowstransport needs the Kerberos
 * acceptor, which exists only when authn.kerberos is configured and enabled (services.ts).
 */
export function enabledWsTrustEndpoints(config: Config): WsTrustEndpoint[] {
  const base = config.server.baseUrl;
  const endpoints: WsTrustEndpoint[] = [];
  const versions: readonly WsTrustVersion[] = ['13', '2005'];
  if (config.wsTrust.usernameMixed) {
    for (const version of versions) endpoints.push({ kind: 'usernamemixed', version, address: base + wsTrustPath('usernamemixed', version) });
  }
  if (config.wsTrust.windowsTransport && config.authn.kerberos?.enabled) {
    const spn = servicePrincipalName(config);
    for (const version of versions) endpoints.push({ kind: 'windowstransport', version, address: base + wsTrustPath('windowstransport', version), spn });
  }
  return endpoints;
}

/** What points clients at WS-Trust: Entra's domain settings (§3.5) and the federation metadata (§4). */
export interface WsTrustReferences {
  /** Entra's metadataExchangeUri, and the MEX reference in the federation metadata. */
  readonly metadataExchangeUri: string;
  /** Entra's activeSignInUri (AD FS: 2005 usernamemixed), only when usernamemixed is served. */
  readonly activeSignInUri: string | undefined;
  /**
   * The federation metadata's SecurityTokenServiceEndpoint address. AD FS names 2005/certificatemixed,
   * which fedgate does not serve; a 2005 endpoint it does serve takes its place.
   */
  readonly securityTokenServiceEndpoint: string;
}

/** Undefined when no WS-Trust endpoint is enabled: then nothing may point to MEX (it is a 404). */
export function wsTrustReferences(config: Config): WsTrustReferences | undefined {
  const endpoints = enabledWsTrustEndpoints(config).filter((e) => e.version === '2005');
  const first = endpoints[0];
  if (!first) return undefined;
  return {
    metadataExchangeUri: config.server.baseUrl + MEX_PATH,
    activeSignInUri: endpoints.find((e) => e.kind === 'usernamemixed')?.address,
    securityTokenServiceEndpoint: first.address,
  };
}
