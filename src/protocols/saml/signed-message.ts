import type { SigningKey } from '../../keys/key-store.js';
import { fillSlot, serializeCanonical, type XmlElement } from '../../xml/canonical-xml.js';
import { signEnveloped, type SignatureAlgorithm } from '../../xml/enveloped-signature.js';

/**
 * Every SAML 2.0 element fedgate signs (Assertion, Response, LogoutRequest, LogoutResponse) carries
 * its enveloped ds:Signature right after its Issuer (saml-core §5.4.1 and the schemas): the tree
 * holds slot('signature') there, the canonical bytes without it are digested and signed once, and
 * the signature is inserted at the slot. Unsigned, the empty slot leaves the bytes as they are.
 */

export interface MessageSigner {
  readonly key: SigningKey;
  readonly algorithm: SignatureAlgorithm;
}

export function writeSignedAtSlot(root: XmlElement, id: string, signer: MessageSigner | undefined): string {
  const doc = serializeCanonical(root);
  if (signer === undefined) return doc.xml;
  return fillSlot(doc, 'signature', signEnveloped({ canonicalElement: doc.xml, id, key: signer.key, algorithm: signer.algorithm }));
}
