import { element, namespace } from '../../xml/canonical-xml.js';
import { SAML_LOGOUT_REASON_USER, SAML_NS, SAML_STATUS } from './saml-constants.js';
import { nameIdElement, samlInstant, type Saml2NameId } from './saml2-assertion.js';
import { statusElement, SUCCESS, writeProtocolMessage, type Saml2MessageHeader, type Saml2Status } from './saml2-response.js';
import type { MessageSigner } from './signed-message.js';

/**
 * Single logout messages fedgate sends (saml-core §3.7): a LogoutRequest to each other SP of the
 * session, and the LogoutResponse to the SP that asked. Canonical like the Response. Over the
 * Redirect binding they go unsigned here and the query is signed (redirect-binding.ts); over POST
 * the message itself carries the signature, after its Issuer.
 */

const SAMLP = namespace('samlp', SAML_NS.protocol);
const SAML = namespace('saml', SAML_NS.assertion);

/**
 * Logout propagated to some participants but not all (saml-core §3.2.2.2): a second-level code
 * under Success, as Shibboleth and SimpleSAMLphp read it, so SPs that look only at the top-level
 * code still see their own logout succeeded.
 */
export const PARTIAL_LOGOUT: Saml2Status = { code: SAML_STATUS.success, subCode: SAML_STATUS.partialLogout };

export interface LogoutRequestInput extends Saml2MessageHeader {
  /** The NameID this SP received, with its format and qualifiers as sent in its assertion. */
  readonly nameId: Saml2NameId;
  /** The SessionIndex values of the assertions this SP received in the session being ended. */
  readonly sessionIndexes: readonly string[];
  /** After this the SP must ignore the request (a few minutes: it travels through the browser). */
  readonly notOnOrAfter: Date;
  /** Default urn:oasis:names:tc:SAML:2.0:logout:user. */
  readonly reason?: string | undefined;
}

export function writeLogoutRequest(input: LogoutRequestInput, signer?: MessageSigner): string {
  return writeProtocolMessage('LogoutRequest', input, { NotOnOrAfter: samlInstant(input.notOnOrAfter), Reason: input.reason ?? SAML_LOGOUT_REASON_USER }, [
    nameIdElement(SAML, input.nameId),
    ...input.sessionIndexes.map((index) => element(SAMLP, 'SessionIndex', {}, [index])),
  ], signer);
}

export interface LogoutResponseInput extends Saml2MessageHeader {
  /** The LogoutRequest's ID. */
  readonly inResponseTo: string;
  /** Default Success; PARTIAL_LOGOUT when another participant could not be logged out. */
  readonly status?: Saml2Status | undefined;
}

export function writeLogoutResponse(input: LogoutResponseInput, signer?: MessageSigner): string {
  return writeProtocolMessage('LogoutResponse', input, { InResponseTo: input.inResponseTo }, [statusElement(input.status ?? SUCCESS)], signer);
}
