import type { FederatedDomain, SamlNameIdFormat } from '../../config/schema.js';
import type { SignatureAlgorithm } from '../../xml/enveloped-signature.js';

/**
 * A SAML 2.0 service provider as the protocol code uses it: the configuration merged with the
 * SP's metadata (configured keys win). Built by the registry (service-providers.ts); everything
 * the SSO, response and logout code needs, already checked, so none of it re-reads configuration.
 */
export interface AssertionConsumerService {
  /** HTTP-POST is the only response binding fedgate sends (Artifact and Redirect are not offered). */
  readonly url: string;
  /** The metadata's index (the position in replyUrls for inline settings). */
  readonly index: number;
  readonly isDefault: boolean;
}

export interface SingleLogoutService {
  readonly binding: 'redirect' | 'post';
  readonly url: string;
  /** Where LogoutResponses go, when the SP names another URL (metadata ResponseLocation). */
  readonly responseUrl: string;
}

export interface SamlAttributeRule {
  /** A claim name of the claims pipeline (upn, email, name, givenname, surname, groups, ...). */
  readonly claim: string;
  /** The attribute Name; default the claim's type URI. */
  readonly name: string | undefined;
  readonly friendlyName: string | undefined;
  readonly nameFormat: 'uri' | 'basic' | 'unspecified';
}

export interface ServiceProvider {
  readonly entityId: string;
  readonly displayName: string;
  readonly profile: 'entra' | 'generic';
  /** In preference order: the default first. Never empty. */
  readonly assertionConsumerServices: readonly AssertionConsumerService[];
  readonly singleLogout: SingleLogoutService | undefined;
  /** Base64 DER certificates whose keys may sign the SP's requests (current and next). */
  readonly signingCertificates: readonly string[];
  /** Base64 DER certificate assertions are encrypted to; none: assertions are not encrypted. */
  readonly encryptionCertificate: string | undefined;
  readonly encryptionAlgorithm: 'aes256-gcm' | 'aes256-cbc' | 'aes128-cbc';
  /** Unsigned AuthnRequests and LogoutRequests are refused. */
  readonly requireSignedRequests: boolean;
  /** XML-DSig SignatureMethod URIs accepted on the SP's messages (never HMAC; SHA-1 only when allowed). */
  readonly requestSignatureAlgorithms: readonly string[];
  readonly requestDigestAlgorithms: readonly string[];
  readonly signResponse: boolean;
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** The format sent when the request leaves it open. */
  readonly nameIdFormat: SamlNameIdFormat;
  /** The NameID formats this SP may ask for (metadata NameIDFormat; all when the metadata lists none). */
  readonly allowedNameIdFormats: readonly SamlNameIdFormat[];
  readonly nameIdClaim: string | undefined;
  readonly attributes: readonly SamlAttributeRule[];
  readonly tokenLifetimeMs: number;
  readonly allowIdpInitiated: boolean;
  readonly defaultRelayState: string | undefined;
  /** Entra: the federated domains, each with its issuer. */
  readonly domains: readonly FederatedDomain[];
  /** Issuer of a generic SP's assertions. */
  readonly issuer: string;
}
