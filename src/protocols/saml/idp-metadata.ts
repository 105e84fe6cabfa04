import type { SigningKey } from '../../keys/key-store.js';
import { element, namespace, type XmlElement } from '../../xml/canonical-xml.js';
import { MD, signingKeyDescriptors, writeSignedEntityDescriptor, type EntityDescriptorInput } from './entity-descriptor.js';
import { SAML_ATTRNAME_FORMAT, SAML_BINDING, SAML_NAMEID_FORMAT, SAML_NS } from './saml-constants.js';

/**
 * fedgate as a SAML 2.0 identity provider, described for service providers: the IDPSSODescriptor
 * (in AD FS's shape, entra-federation.md §4) and the standalone signed metadata at /saml/metadata.
 * SPs read the signing certificates from it, so during a rollover it lists the current and the next
 * one and an SP that refreshes its copy trusts the next key before fedgate signs with it.
 */

const SAML = namespace('saml', SAML_NS.assertion);

/** Both bindings are accepted for requests (SSO and logout); they share one Location. */
const REQUEST_BINDINGS = [SAML_BINDING.redirect, SAML_BINDING.post] as const;

/** AD FS's three, then unspecified: every format an SP may ask for in NameIDPolicy. */
const NAMEID_FORMATS = [
  SAML_NAMEID_FORMAT.emailAddress,
  SAML_NAMEID_FORMAT.persistent,
  SAML_NAMEID_FORMAT.transient,
  SAML_NAMEID_FORMAT.unspecified,
] as const;

/** An attribute fedgate can release, announced as a saml:Attribute without values. */
export interface OfferedAttribute {
  /** The claim type URI (NameFormat uri). */
  readonly name: string;
  readonly friendlyName: string;
}

export interface IdpSsoDescriptorInput {
  /** Base64 DER signing certificates: the current one and, during a rollover, the next. */
  readonly signingCertificates: readonly string[];
  /** SingleSignOnService Location (HTTP-Redirect and HTTP-POST). */
  readonly singleSignOnUrl: string;
  /** SingleLogoutService Location (HTTP-Redirect and HTTP-POST). */
  readonly singleLogoutUrl: string;
  readonly attributes: readonly OfferedAttribute[];
}

export type SamlMetadataInput = IdpSsoDescriptorInput & EntityDescriptorInput;

/**
 * The IDPSSODescriptor, children in the schema's order (KeyDescriptor, SingleLogoutService,
 * NameIDFormat, SingleSignOnService, saml:Attribute). No encryption KeyDescriptor: fedgate decrypts
 * nothing. WantAuthnRequestsSigned is false here because whether requests must be signed is decided
 * per SP (requireSignedRequests), not for every SP at once.
 */
export function idpSsoDescriptor(input: IdpSsoDescriptorInput): XmlElement {
  const endpoints = (name: string, location: string) => REQUEST_BINDINGS.map((binding) => element(MD, name, { Binding: binding, Location: location }));
  return element(MD, 'IDPSSODescriptor', { WantAuthnRequestsSigned: 'false', protocolSupportEnumeration: SAML_NS.protocol }, [
    ...signingKeyDescriptors(input.signingCertificates),
    ...endpoints('SingleLogoutService', input.singleLogoutUrl),
    ...NAMEID_FORMATS.map((format) => element(MD, 'NameIDFormat', {}, [format])),
    ...endpoints('SingleSignOnService', input.singleSignOnUrl),
    ...input.attributes.map((a) => element(SAML, 'Attribute', { FriendlyName: a.friendlyName, Name: a.name, NameFormat: SAML_ATTRNAME_FORMAT.uri })),
  ]);
}

/** The standalone signed metadata document served at /saml/metadata. */
export function writeSamlMetadata(input: SamlMetadataInput, key: SigningKey): string {
  return writeSignedEntityDescriptor(input, [idpSsoDescriptor(input)], key);
}
