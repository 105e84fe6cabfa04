import { IdpError } from '../core/errors.js';

/**
 * Why inbound XML was refused. Parser reasons come from parseXml, signature reasons from
 * verifySignedElement / verifyRedirectBindingSignature. Protocol code maps them to its own errors
 * (a SAML Requester status, a WS-Trust InvalidSecurity fault, the error page) and audits the code.
 */
export type XmlRejectionReason =
  // parseXml
  | 'too-large'
  | 'not-utf8'
  | 'doctype'
  | 'entity'
  | 'processing-instruction'
  | 'invalid-character'
  | 'not-well-formed'
  | 'too-deep'
  | 'too-many-attributes'
  | 'not-one-root'
  | 'content-outside-root'
  // verifySignedElement
  | 'unexpected-element'
  | 'missing-id'
  | 'duplicate-id'
  | 'signature-missing'
  | 'signature-multiple'
  | 'signature-malformed'
  | 'canonicalization-not-allowed'
  | 'signature-algorithm-not-allowed'
  | 'digest-algorithm-not-allowed'
  | 'reference-count'
  | 'reference-uri'
  | 'transform-not-allowed'
  | 'untrusted-key'
  | 'digest-mismatch'
  | 'signature-invalid'
  | 'signed-content-mismatch'
  // verifyRedirectBindingSignature
  | 'redirect-malformed'
  | 'redirect-unsigned';

/**
 * Inbound XML (or a binding signature) we refuse. It is a `bad_request` IdpError so that a caller
 * that forgets to translate it still answers 400 with a safe message, never a 500 or a stack.
 * `detail` (logged only) may quote attacker-controlled names; it never reaches a response.
 */
export class XmlRejectedError extends IdpError {
  readonly reason: XmlRejectionReason;

  constructor(reason: XmlRejectionReason, detail: string) {
    super('bad_request', 'The XML message was refused.', `${reason}: ${detail}`);
    this.name = 'XmlRejectedError';
    this.reason = reason;
  }
}

export function reject(reason: XmlRejectionReason, detail: string): never {
  throw new XmlRejectedError(reason, detail);
}
