import type { SigningKey } from '../../keys/key-store.js';
import { element, namespace, type XmlElement } from '../../xml/canonical-xml.js';
import { MD, signingKeyDescriptors, writeSignedEntityDescriptor, type EntityDescriptorInput } from '../saml/entity-descriptor.js';
import { idpSsoDescriptor, type IdpSsoDescriptorInput } from '../saml/idp-metadata.js';
import { SAML_NS } from '../saml/saml-constants.js';
import { SAML11_TOKEN_TYPE } from './saml11-assertion.js';
import { WSA_NS } from './rstr.js';

/**
 * Signed WS-Federation metadata in the AD FS 2016 shape (entra-federation.md §4), trimmed to what
 * fedgate serves: one RoleDescriptor of xsi:type fed:SecurityTokenServiceType and, as AD FS does,
 * the SAML 2.0 IDPSSODescriptor. Entra's automatic certificate rollover reads the signing
 * certificates from it (§5.3).
 */

export const WSFED_NS = 'http://docs.oasis-open.org/wsfed/federation/200706';
export const WSFED_AUTH_NS = 'http://docs.oasis-open.org/wsfed/authorization/200706';
export const MEX_NS = 'http://schemas.xmlsoap.org/ws/2004/09/mex';
const WSTRUST_2005 = 'http://schemas.xmlsoap.org/ws/2005/02/trust';
const WSTRUST_13 = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512';

const FED = namespace('fed', WSFED_NS);
const AUTH = namespace('auth', WSFED_AUTH_NS);
const XSI = namespace('xsi', SAML_NS.xsi);
const WSA = namespace('wsa', WSA_NS);
const WSX = namespace('wsx', MEX_NS);

/**
 * xsi:type="fed:SecurityTokenServiceType" names `fed` inside an attribute value, which exclusive
 * c14n does not count as a use; readers resolve it against the namespaces in scope (.NET's
 * WsFederationMetadataSerializer: ResolveQName), so `fed` must be declared on RoleDescriptor itself.
 * Signing with InclusiveNamespaces PrefixList="fed" makes that declaration part of the canonical form.
 */
const INCLUSIVE_PREFIXES = ['fed'] as const;

export interface OfferedClaimType {
  /** Claim type URI, http:// form. */
  readonly uri: string;
  readonly displayName: string;
  readonly description: string;
}

/** What the metadata document says. Everything is a value the service is configured with; nothing comes from a request. */
export interface FederationMetadataInput extends EntityDescriptorInput {
  /** RoleDescriptor ServiceDisplayName; left out when absent. */
  readonly displayName?: string | undefined;
  /** Base64 DER token-signing certificates: the current one and, during a rollover, the next (one KeyDescriptor use="signing" each). */
  readonly signingCertificates: readonly string[];
  /** fed:PassiveRequestorEndpoint address: the WS-Fed sign-in URL (AD FS: https://<fs>/adfs/ls/). */
  readonly passiveRequestorEndpoint: string;
  /** fed:SecurityTokenServiceEndpoint address (WS-Trust); the element is left out when absent. */
  readonly securityTokenServiceEndpoint?: string | undefined;
  /** MEX address referenced from the SecurityTokenServiceEndpoint (AD FS: …/adfs/services/trust/mex); only with it. */
  readonly metadataExchangeEndpoint?: string | undefined;
  /** fed:ClaimTypesOffered, in order, each Optional="true". */
  readonly claimTypes: readonly OfferedClaimType[];
  /** The SAML 2.0 IdP role after the STS one, with the same signing certificates; left out when absent. */
  readonly samlIdp?: Omit<IdpSsoDescriptorInput, 'signingCertificates'> | undefined;
}

function endpointReference(address: string, extra: readonly XmlElement[] = []): XmlElement {
  return element(WSA, 'EndpointReference', {}, [element(WSA, 'Address', {}, [address]), ...extra]);
}

function mexReference(address: string): XmlElement {
  return element(WSA, 'Metadata', {}, [
    element(WSX, 'Metadata', {}, [
      element(WSX, 'MetadataSection', { Dialect: MEX_NS }, [
        element(WSX, 'MetadataReference', {}, [element(WSA, 'Address', {}, [address])]),
      ]),
    ]),
  ]);
}

function securityTokenServiceDescriptor(input: FederationMetadataInput): XmlElement {
  const protocols = input.securityTokenServiceEndpoint === undefined ? [WSTRUST_2005, WSFED_NS] : [WSTRUST_13, WSTRUST_2005, WSFED_NS];
  // Children in the order of the WS-Federation schema (WebServiceDescriptorType, then SecurityTokenServiceType).
  return element(MD, 'RoleDescriptor', { ServiceDisplayName: input.displayName, protocolSupportEnumeration: protocols.join(' ') }, [
    ...signingKeyDescriptors(input.signingCertificates),
    element(FED, 'TokenTypesOffered', {}, [element(FED, 'TokenType', { Uri: SAML11_TOKEN_TYPE })]),
    element(FED, 'ClaimTypesOffered', {}, input.claimTypes.map((c) => element(AUTH, 'ClaimType', { Optional: 'true', Uri: c.uri }, [
      element(AUTH, 'DisplayName', {}, [c.displayName]),
      element(AUTH, 'Description', {}, [c.description]),
    ]))),
    ...(input.securityTokenServiceEndpoint === undefined ? [] : [element(FED, 'SecurityTokenServiceEndpoint', {}, [
      endpointReference(input.securityTokenServiceEndpoint, input.metadataExchangeEndpoint === undefined ? [] : [mexReference(input.metadataExchangeEndpoint)]),
    ])]),
    element(FED, 'PassiveRequestorEndpoint', {}, [endpointReference(input.passiveRequestorEndpoint)]),
  ], { qualifiedAttributes: [{ ns: XSI, name: 'type', value: 'fed:SecurityTokenServiceType' }], declare: [FED] });
}

/** The signed metadata document (canonical XML, no XML declaration). Sign once and serve the bytes. */
export function writeFederationMetadata(input: FederationMetadataInput, key: SigningKey): string {
  const roles = [securityTokenServiceDescriptor(input)];
  if (input.samlIdp) roles.push(idpSsoDescriptor({ ...input.samlIdp, signingCertificates: input.signingCertificates }));
  return writeSignedEntityDescriptor(input, roles, key, INCLUSIVE_PREFIXES);
}
