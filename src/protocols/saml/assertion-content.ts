import { createHmac } from 'node:crypto';
import { principalClaims } from '../../claims/principal-claims.js';
import { SAML_NAMEID_FORMATS } from '../../config/schema.js';
import { IdpError } from '../../core/errors.js';
import type { Principal } from '../../core/principal.js';
import { federatedDomainOf } from '../wsfed/wsfed-claims.js';
import { authnContextClassOf, type SamlSignInState } from './authn-request.js';
import { SAML_ATTRNAME_FORMAT } from './saml-constants.js';
import type { ServiceProvider } from './service-provider.js';

/**
 * The claims step of SAML 2.0: who the assertion says the person is (NameID) and what it releases
 * (attributes), per service provider. Entra's content follows entra-federation.md §2.3 to the
 * letter: persistent NameID = ImmutableID, one attribute IDPEmail = UPN, the domain's issuer.
 */
export interface SamlNameId {
  readonly value: string;
  readonly format: string;
  /** The SP a pairwise (persistent, transient) identifier belongs to. */
  readonly spNameQualifier?: string;
}

export interface SamlAttributeValue {
  readonly name: string;
  readonly nameFormat: string | undefined;
  readonly friendlyName: string | undefined;
  readonly values: readonly string[];
}

export interface SamlAssertionContent {
  readonly issuer: string;
  readonly nameId: SamlNameId;
  readonly attributes: readonly SamlAttributeValue[];
  readonly authnContextClassRef: string;
}

export interface SamlContentOptions {
  /** Secret of persistent and transient NameIDs (saml.persistentIdSalt or generated). */
  readonly nameIdSalt: string;
  readonly netbiosDomain?: string | undefined;
}

const NAME_FORMATS = { uri: SAML_ATTRNAME_FORMAT.uri, basic: SAML_ATTRNAME_FORMAT.basic, unspecified: SAML_ATTRNAME_FORMAT.unspecified } as const;

const accountError = (message: string, detail: string) => new IdpError('unsupported_request', message, detail);

/**
 * `ssoId` identifies the sign-on (SsoSession.ssoId, never the cookie value): transient NameIDs
 * are derived from it, so they differ per sign-on and per SP and need no storage to be logged out.
 */
export function samlAssertionContent(principal: Principal, sp: ServiceProvider, state: SamlSignInState, ssoId: string,
  options: SamlContentOptions): SamlAssertionContent {
  const authnContextClassRef = authnContextClassOf(principal.authentication.kind, state);
  const user = principal.user;
  if (sp.profile === 'entra') {
    const domain = federatedDomainOf(user.userPrincipalName, sp.domains);
    if (!domain) {
      throw accountError('Your account is not in a domain that this sign-in service federates with Microsoft. Contact your help desk.',
        `UPN ${user.userPrincipalName ?? '(none)'} matches none of ${sp.domains.map((d) => d.name).join(', ')}`);
    }
    if (!user.immutableId) {
      throw new IdpError('configuration', 'Your account cannot be used with Microsoft online services yet. Contact your help desk.', `user ${user.dn} has no source anchor (ImmutableID)`);
    }
    return {
      issuer: domain.issuerUri,
      nameId: { value: user.immutableId, format: SAML_NAMEID_FORMATS.persistent },
      // Entra's sample: Name="IDPEmail", no NameFormat (§2.3).
      attributes: [{ name: 'IDPEmail', nameFormat: undefined, friendlyName: undefined, values: [user.userPrincipalName!] }],
      authnContextClassRef,
    };
  }

  const claims = principalClaims(principal, options.netbiosDomain);
  const byName = new Map(claims.map((c) => [c.name, c]));
  const attributes = sp.attributes.flatMap((rule) => {
    const claim = byName.get(rule.claim);
    return claim ? [{ name: rule.name ?? claim.type, nameFormat: NAME_FORMATS[rule.nameFormat], friendlyName: rule.friendlyName, values: claim.values }] : [];
  });
  return { issuer: sp.issuer, nameId: nameIdFor(principal, sp, state, ssoId, options, byName), attributes, authnContextClassRef };
}

function nameIdFor(principal: Principal, sp: ServiceProvider, state: SamlSignInState, ssoId: string, options: SamlContentOptions,
  claims: ReadonlyMap<string, { values: readonly string[] }>): SamlNameId {
  const format = SAML_NAMEID_FORMATS[state.nameIdFormat];
  const pairwise = (input: string) => createHmac('sha256', options.nameIdSalt).update(input).digest('base64url');
  switch (state.nameIdFormat) {
    case 'persistent': {
      // The objectGUID survives renames and moves; the DN is the fallback of directories without one.
      const userKey = principal.user.objectGuid ?? principal.user.dn;
      return { value: pairwise(`persistent\n${sp.entityId}\n${userKey}`), format, spNameQualifier: sp.entityId };
    }
    case 'transient':
      return { value: `_${pairwise(`transient\n${sp.entityId}\n${ssoId}`)}`, format, spNameQualifier: sp.entityId };
    case 'emailAddress':
    case 'unspecified': {
      const claim = sp.nameIdClaim ?? (state.nameIdFormat === 'emailAddress' ? 'email' : 'upn');
      const value = claims.get(claim)?.values[0];
      if (!value) {
        throw new IdpError('configuration', 'Your account lacks information this application needs. Contact your help desk.',
          `no ${claim} claim for ${principal.user.dn} (NameID of ${sp.entityId})`);
      }
      return { value, format };
    }
  }
}
