import { element, namespace, slot, type CanonicalFragment, type XmlChild, type XmlElement } from '../../xml/canonical-xml.js';
import { SAML_CONSENT_UNSPECIFIED, SAML_NS, SAML_STATUS } from './saml-constants.js';
import { samlInstant, signedSaml2AssertionFragment } from './saml2-assertion.js';
import { encryptedAssertionFragment } from './encrypt-assertion.js';
import { writeSignedAtSlot, type MessageSigner } from './signed-message.js';

/**
 * samlp:Response (saml-core §3.3.3) in the shape of Entra's sample (entra-federation.md §2.3):
 * Destination, Consent and InResponseTo on the Response; the Issuer in the assertion namespace as
 * its own default namespace; Status; then the signed (or encrypted) assertion, embedded byte for byte.
 *
 * Each namespace is rendered on the element that uses it (canonical form) and the Response never
 * binds the prefix `saml` or a default namespace, so none is in scope over the embedded assertion:
 * its exclusive canonical form, and so its signature, is the same in place as standalone. That is
 * also what makes the optional Response signature (right after the Response's Issuer, over the
 * whole Response with the assertion in it) verify: the bytes we wrote ARE the canonical form.
 *
 * A status-only Response (an error) carries no assertion. It is signed when the SP wants signed
 * Responses (sp.signResponse), otherwise unsigned, which the Web SSO profile allows (§4.1.3.5
 * requires signatures only on assertions); the caller passes the signer or not.
 */

const SAMLP = namespace('samlp', SAML_NS.protocol);
/** The Issuer of protocol messages declares the assertion namespace as its default, as Entra's sample does. */
const ASSERTION_DEFAULT = namespace('', SAML_NS.assertion);

export interface Saml2Status {
  /** A top-level code (Success, Requester, Responder, VersionMismatch). */
  readonly code: string;
  /** A second-level code (NoPassive, AuthnFailed, RequestDenied, PartialLogout, …). */
  readonly subCode?: string | undefined;
  /** Human-readable, for the SP's logs: never a secret, never an exception text. */
  readonly message?: string | undefined;
}

export const SUCCESS: Saml2Status = { code: SAML_STATUS.success };

/** What every samlp message fedgate writes has: its ID (an NCName, "_" + randomUUID()), time, issuer and destination. */
export interface Saml2MessageHeader {
  readonly id: string;
  readonly issueInstant: Date;
  readonly issuer: string;
  /** The URL the message is sent to (ACS, SLO endpoint): the receiver checks it. */
  readonly destination: string;
}

export interface Saml2ResponseInput extends Saml2MessageHeader {
  /** The AuthnRequest's ID; absent for IdP-initiated SSO. */
  readonly inResponseTo?: string | undefined;
  /** Default Success. */
  readonly status?: Saml2Status | undefined;
}

/** What a Response carries: at most one assertion, as written by writeSignedSaml2Assertion or encryptAssertion. */
export interface Saml2ResponseBody {
  readonly signedAssertion?: string | undefined;
  readonly encryptedAssertion?: string | undefined;
}

export function issuerElement(issuer: string): XmlElement {
  return element(ASSERTION_DEFAULT, 'Issuer', {}, [issuer]);
}

export function statusElement(status: Saml2Status): XmlElement {
  const subCode = status.subCode === undefined ? [] : [element(SAMLP, 'StatusCode', { Value: status.subCode })];
  const message = status.message === undefined ? [] : [element(SAMLP, 'StatusMessage', {}, [status.message])];
  return element(SAMLP, 'Status', {}, [element(SAMLP, 'StatusCode', { Value: status.code }, subCode), ...message]);
}

/**
 * A samlp protocol message: Issuer, the signature's slot, then the message's own children (the
 * schema order of StatusResponseType and RequestAbstractType). Signed when a signer is given.
 */
export function writeProtocolMessage(
  name: string, header: Saml2MessageHeader, attributes: Readonly<Record<string, string | undefined>>,
  children: readonly XmlChild[], signer: MessageSigner | undefined,
): string {
  const root = element(SAMLP, name, {
    ID: header.id,
    Version: '2.0',
    IssueInstant: samlInstant(header.issueInstant),
    Destination: header.destination,
    ...attributes,
  }, [issuerElement(header.issuer), slot('signature'), ...children]);
  return writeSignedAtSlot(root, header.id, signer);
}

function assertionChild(body: Saml2ResponseBody): CanonicalFragment[] {
  if (body.signedAssertion !== undefined && body.encryptedAssertion !== undefined) throw new Error('a Response carries one assertion, signed or encrypted');
  if (body.signedAssertion !== undefined) return [signedSaml2AssertionFragment(body.signedAssertion)];
  if (body.encryptedAssertion !== undefined) return [encryptedAssertionFragment(body.encryptedAssertion)];
  return [];
}

/**
 * The Response, canonical. A success needs an assertion and an error must not carry one. With
 * `signer` the whole Response is signed too (sp.signResponse), on top of the assertion's own signature.
 */
export function writeSaml2Response(input: Saml2ResponseInput, body: Saml2ResponseBody, signer?: MessageSigner): string {
  const status = input.status ?? SUCCESS;
  const assertion = assertionChild(body);
  if ((status.code === SAML_STATUS.success) !== (assertion.length === 1)) {
    throw new Error('a Success Response carries an assertion; an error Response carries none');
  }
  return writeProtocolMessage('Response', input, { Consent: SAML_CONSENT_UNSPECIFIED, InResponseTo: input.inResponseTo },
    [statusElement(status), ...assertion], signer);
}
