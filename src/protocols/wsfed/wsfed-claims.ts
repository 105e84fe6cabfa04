import { principalClaims } from '../../claims/principal-claims.js';
import type { FederatedDomain, WsfedRelyingPartyConfig } from '../../config/schema.js';
import { IdpError } from '../../core/errors.js';
import { AuthMethod, type Principal } from '../../core/principal.js';
import type { Saml11Attribute } from './saml11-assertion.js';

/**
 * The claims step of WS-Federation: what one relying party receives, as SAML 1.1 parts.
 * Entra's set follows entra-federation.md §1.3–§1.6 and §6 to the letter; a generic application
 * gets the claims its release rules name.
 */
export interface WsfedTokenContent {
  readonly issuer: string;
  readonly nameIdentifier: { readonly value: string; readonly format: string };
  readonly attributes: readonly Saml11Attribute[];
  readonly authenticationMethod: string;
}

export interface WsfedRequestContext {
  /** The client address is in federation.internalNetworks. */
  readonly insideCorporateNetwork: boolean;
}

const NAMEID_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

/** A claim type URI as SAML 1.1 writes it: AttributeNamespace + AttributeName, split at the last '/'. */
export function saml11Attribute(type: string, values: readonly string[]): Saml11Attribute {
  const cut = type.lastIndexOf('/');
  return cut > 0 ? { namespace: type.slice(0, cut), name: type.slice(cut + 1), values } : { namespace: '', name: type, values };
}

/**
 * The federated domain whose issuer a user's tokens carry: the configured domain equal to the UPN
 * suffix, or the closest parent of it (sub-domain users are issued as the parent domain, §1.4).
 */
export function federatedDomainOf(upn: string | undefined, domains: readonly FederatedDomain[]): FederatedDomain | undefined {
  const suffix = upn?.slice(upn.lastIndexOf('@') + 1).toLowerCase();
  if (!suffix || !upn?.includes('@')) return undefined;
  return domains
    .filter((d) => suffix === d.name || suffix.endsWith(`.${d.name}`))
    .sort((a, b) => b.name.length - a.name.length)[0];
}

function entraContent(principal: Principal, rp: WsfedRelyingPartyConfig, ctx: WsfedRequestContext): WsfedTokenContent {
  const user = principal.user;
  const domain = federatedDomainOf(user.userPrincipalName, rp.domains);
  if (!domain) {
    throw new IdpError('unsupported_request',
      'Your account is not in a domain that this sign-in service federates with Microsoft. Contact your help desk.',
      `UPN ${user.userPrincipalName ?? '(none)'} matches none of ${rp.domains.map((d) => d.name).join(', ')}`);
  }
  if (!user.immutableId) {
    throw new IdpError('configuration', 'Your account cannot be used with Microsoft online services yet. Contact your help desk.',
      `user ${user.dn} has no source anchor (ImmutableID)`);
  }
  // AD FS sends PasswordProtectedTransport to Entra for forms sign-in (§1.6, S11).
  const method = principal.authentication.kind === 'kerberos' ? AuthMethod.windows : AuthMethod.passwordProtectedTransport;
  return {
    issuer: domain.issuerUri,
    nameIdentifier: { value: user.immutableId, format: NAMEID_UNSPECIFIED },
    attributes: [
      { name: 'UPN', namespace: 'http://schemas.xmlsoap.org/claims', values: [user.userPrincipalName!] },
      { name: 'ImmutableID', namespace: 'http://schemas.microsoft.com/LiveID/Federation/2008/05', values: [user.immutableId] },
      { name: 'authnmethodsreferences', namespace: 'http://schemas.microsoft.com/claims', values: [method] },
      { name: 'insidecorporatenetwork', namespace: 'http://schemas.microsoft.com/ws/2012/01', values: [String(ctx.insideCorporateNetwork)] },
    ],
    authenticationMethod: method,
  };
}

function genericContent(principal: Principal, rp: WsfedRelyingPartyConfig, defaultIssuer: string, netbiosDomain: string | undefined): WsfedTokenContent {
  const claims = principalClaims(principal, netbiosDomain);
  const byName = new Map(claims.map((c) => [c.name, c]));
  const nameId = byName.get(rp.nameIdentifier)?.values[0];
  if (!nameId) {
    throw new IdpError('configuration', 'Your account lacks information this application needs. Contact your help desk.',
      `no ${rp.nameIdentifier} claim for ${principal.user.dn} (nameIdentifier of ${rp.identifier})`);
  }
  const attributes = rp.claims.flatMap((rule) => {
    const claim = byName.get(rule.claim);
    return claim ? [saml11Attribute(rule.as ?? claim.type, claim.values)] : [];
  });
  return {
    issuer: rp.issuer ?? defaultIssuer,
    nameIdentifier: { value: nameId, format: rp.nameIdentifier === 'email' ? NAMEID_EMAIL : NAMEID_UNSPECIFIED },
    attributes,
    authenticationMethod: principal.authentication.kind === 'kerberos' ? AuthMethod.windows : AuthMethod.password,
  };
}

export function wsfedTokenContent(principal: Principal, rp: WsfedRelyingPartyConfig, ctx: WsfedRequestContext,
  options: { defaultIssuer: string; netbiosDomain?: string | undefined }): WsfedTokenContent {
  return rp.profile === 'entra' ? entraContent(principal, rp, ctx) : genericContent(principal, rp, options.defaultIssuer, options.netbiosDomain);
}
