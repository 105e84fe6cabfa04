import { randomUUID } from 'node:crypto';
import type { SigningKey } from '../../keys/key-store.js';
import { element, fillSlot, namespace, serializeCanonical, slot, type XmlElement } from '../../xml/canonical-xml.js';
import { keyInfoElement, signEnveloped, type SignatureAlgorithm } from '../../xml/enveloped-signature.js';
import { SAML11_TOKEN_TYPE } from './saml11-assertion.js';
import { WSA_NS } from './rstr.js';

/**
 * Signed WS-Federation metadata in the AD FS 2016 shape (entra-federation.md §4), trimmed to what
 * fedgate serves: one RoleDescriptor of xsi:type fed:SecurityTokenServiceType. Entra's automatic
 * certificate rollover reads the signing certificates from it (§5.3).
 */

export const METADATA_NS = 'urn:oasis:names:tc:SAML:2.0:metadata';
export const WSFED_NS = 'http://docs.oasis-open.org/wsfed/federation/200706';
export const WSFED_AUTH_NS = 'http://docs.oasis-open.org/wsfed/authorization/200706';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
export const MEX_NS = 'http://schemas.xmlsoap.org/ws/2004/09/mex';
const WSTRUST_2005 = 'http://schemas.xmlsoap.org/ws/2005/02/trust';
const WSTRUST_13 = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512';

// The metadata namespace is the default one, as in AD FS's document.
const MD = namespace('', METADATA_NS);
const FED = namespace('fed', WSFED_NS);
const AUTH = namespace('auth', WSFED_AUTH_NS);
const XSI = namespace('xsi', XSI_NS);
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
export interface FederationMetadataInput {
  /** entityID: the federation service identifier (AD FS: http://<fs>/adfs/services/trust), the tokens' Issuer. */
  readonly entityId: string;
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
  /** EntityDescriptor validUntil; left out when absent. */
  readonly validUntil?: Date | undefined;
  /** EntityDescriptor ID (an NCName), the signature's Reference; a fresh "_" + UUID when absent. */
  readonly id?: string | undefined;
  /** Defaults to rsa-sha256. */
  readonly signatureAlgorithm?: SignatureAlgorithm | undefined;
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
    ...input.signingCertificates.map((cert) => element(MD, 'KeyDescriptor', { use: 'signing' }, [keyInfoElement(cert)])),
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
  if (input.signingCertificates.length === 0) throw new Error('federation metadata needs at least one signing certificate');
  const id = input.id ?? `_${randomUUID()}`;
  const entityDescriptor = element(MD, 'EntityDescriptor', {
    ID: id,
    entityID: input.entityId,
    validUntil: input.validUntil?.toISOString(),
  }, [
    // ds:Signature is the FIRST child of EntityDescriptor (SAML metadata schema; AD FS).
    slot('signature'),
    securityTokenServiceDescriptor(input),
  ]);
  const doc = serializeCanonical(entityDescriptor, { inclusivePrefixes: INCLUSIVE_PREFIXES });
  const signature = signEnveloped({
    canonicalElement: doc.xml,
    id,
    key,
    algorithm: input.signatureAlgorithm ?? 'rsa-sha256',
    inclusivePrefixes: INCLUSIVE_PREFIXES,
  });
  return fillSlot(doc, 'signature', signature);
}
