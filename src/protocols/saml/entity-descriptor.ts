import { randomUUID } from 'node:crypto';
import type { SigningKey } from '../../keys/key-store.js';
import { element, fillSlot, namespace, serializeCanonical, slot, type XmlElement } from '../../xml/canonical-xml.js';
import { keyInfoElement, signEnveloped, type SignatureAlgorithm } from '../../xml/enveloped-signature.js';
import { SAML_NS } from './saml-constants.js';

/**
 * The signed md:EntityDescriptor both metadata documents share (FederationMetadata.xml and
 * /saml/metadata): one place that decides the ID, where ds:Signature goes and how it is signed, so
 * the two documents cannot drift apart on what a consumer checks first.
 */

/** The metadata namespace is the default one, as in AD FS's documents. */
export const MD = namespace('', SAML_NS.metadata);

export interface EntityDescriptorInput {
  /** entityID: the federation service identifier, the tokens' Issuer. */
  readonly entityId: string;
  /** EntityDescriptor ID (an NCName), the signature's Reference; a fresh "_" + UUID when absent. */
  readonly id?: string | undefined;
  /** EntityDescriptor validUntil; left out when absent. */
  readonly validUntil?: Date | undefined;
  /** EntityDescriptor cacheDuration (xs:duration, e.g. PT1H); left out when absent. */
  readonly cacheDuration?: string | undefined;
  /** Defaults to rsa-sha256. */
  readonly signatureAlgorithm?: SignatureAlgorithm | undefined;
}

/** One KeyDescriptor use="signing" per certificate, in the given order (current first, then next). */
export function signingKeyDescriptors(certificatesBase64: readonly string[]): XmlElement[] {
  if (certificatesBase64.length === 0) throw new Error('metadata needs at least one signing certificate');
  return certificatesBase64.map((cert) => element(MD, 'KeyDescriptor', { use: 'signing' }, [keyInfoElement(cert)]));
}

/**
 * The signed document (canonical XML, no XML declaration): sign once and serve the bytes.
 * `inclusivePrefixes`: prefixes named inside attribute values (xsi:type QNames), signed with
 * InclusiveNamespaces so their declarations are covered.
 */
export function writeSignedEntityDescriptor(
  input: EntityDescriptorInput,
  roles: readonly XmlElement[],
  key: SigningKey,
  inclusivePrefixes: readonly string[] = [],
): string {
  const id = input.id ?? `_${randomUUID()}`;
  const entityDescriptor = element(MD, 'EntityDescriptor', {
    ID: id,
    cacheDuration: input.cacheDuration,
    entityID: input.entityId,
    validUntil: input.validUntil?.toISOString(),
  }, [
    // ds:Signature is the FIRST child of EntityDescriptor (SAML metadata schema; AD FS).
    slot('signature'),
    ...roles,
  ]);
  const doc = serializeCanonical(entityDescriptor, { inclusivePrefixes });
  const signature = signEnveloped({
    canonicalElement: doc.xml,
    id,
    key,
    algorithm: input.signatureAlgorithm ?? 'rsa-sha256',
    inclusivePrefixes,
  });
  return fillSlot(doc, 'signature', signature);
}
