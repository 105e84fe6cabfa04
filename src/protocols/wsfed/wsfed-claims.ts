import { principalClaims } from '../../claims/principal-claims.js';
import type { FederatedDomain, WsfedRelyingPartyConfig } from '../../config/schema.js';
import { IdpError } from '../../core/errors.js';
import { AuthMethod, type DirectoryUser, type Principal } from '../../core/principal.js';
import { guidFromString, immutableIdFromBytes } from '../../directory/guid.js';
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
  /**
   * WS-Trust windowstransport (hybrid join, entra-federation.md §6.2): Entra's tokens say the
   * account type, and a domain-joined computer gets the device token.
   */
  readonly windowsTransport?: boolean;
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

/** AD's Domain Computers group: a computer whose primary group it is is domain-joined (§6.2). */
const DOMAIN_COMPUTERS_RID = 515;
/** The device token's AuthenticationMethod (§6.2, AD FS's value for a computer's IWA). */
const DEVICE_AUTHENTICATION_METHOD = 'urn:federation:authentication:windows';
const CLAIMS_2008 = 'http://schemas.microsoft.com/ws/2008/06/identity/claims';
const CLAIMS_2012 = 'http://schemas.microsoft.com/ws/2012/01';
const IMMUTABLE_ID_NS = 'http://schemas.microsoft.com/LiveID/Federation/2008/05';

const isDomainJoinedComputer = (user: DirectoryUser) => user.accountType === 'computer' && user.primaryGroupId === DOMAIN_COMPUTERS_RID;

/**
 * The hybrid-join device token (§6.2, §6.4): the computer object's objectGUID as ImmutableID and
 * NameIdentifier (always objectGUID, whatever the users' source anchor), its objectSid. A computer
 * has no UPN to pick a domain by, so it is issued as the first domain listed (Entra Connect's rule
 * names one fixed verified domain), and says so in issuerid when the tenant has several.
 */
function deviceContent(user: DirectoryUser, rp: WsfedRelyingPartyConfig, ctx: WsfedRequestContext): WsfedTokenContent {
  const domain = rp.domains[0];
  if (!domain || !user.objectGuid || !user.objectSid) {
    throw new IdpError('configuration', 'This computer cannot join Microsoft online services. Contact your help desk.',
      `computer ${user.dn} lacks ${!domain ? 'a federated domain' : !user.objectGuid ? 'objectGUID' : 'objectSid'}`);
  }
  const immutableId = immutableIdFromBytes(guidFromString(user.objectGuid));
  return {
    issuer: domain.issuerUri,
    nameIdentifier: { value: immutableId, format: NAMEID_UNSPECIFIED },
    attributes: [
      { name: 'accounttype', namespace: CLAIMS_2012, values: ['DJ'] },
      { name: 'onpremobjectguid', namespace: 'http://schemas.microsoft.com/identity/claims', values: [immutableId] },
      { name: 'primarysid', namespace: CLAIMS_2008, values: [user.objectSid] },
      { name: 'ImmutableID', namespace: IMMUTABLE_ID_NS, values: [immutableId] },
      ...(rp.domains.length > 1 ? [{ name: 'issuerid', namespace: CLAIMS_2008, values: [domain.issuerUri] }] : []),
      { name: 'insidecorporatenetwork', namespace: CLAIMS_2012, values: [String(ctx.insideCorporateNetwork)] },
    ],
    authenticationMethod: DEVICE_AUTHENTICATION_METHOD,
  };
}

function entraContent(principal: Principal, rp: WsfedRelyingPartyConfig, ctx: WsfedRequestContext): WsfedTokenContent {
  const user = principal.user;
  if (ctx.windowsTransport && isDomainJoinedComputer(user)) return deviceContent(user, rp, ctx);
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
      { name: 'ImmutableID', namespace: IMMUTABLE_ID_NS, values: [user.immutableId] },
      { name: 'authnmethodsreferences', namespace: 'http://schemas.microsoft.com/claims', values: [method] },
      { name: 'insidecorporatenetwork', namespace: CLAIMS_2012, values: [String(ctx.insideCorporateNetwork)] },
      // AD FS's rule: every account that is not a domain-joined computer is a User (§6.2).
      ...(ctx.windowsTransport ? [{ name: 'accounttype', namespace: CLAIMS_2012, values: ['User'] }] : []),
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
