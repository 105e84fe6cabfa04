import { escapeAttribute, escapeText } from '../../xml/canonical-xml.js';
import { WSTRUST_13_NS } from './trust-version.js';

/**
 * SOAP 1.2 faults as AD FS sends them (entra-federation.md §3.3): HTTP 500 for every fault, since
 * clients read the fault only from a 500 (Exchange's federated-STS client treats any other status
 * as a transport error, MSAL reads the body whatever the status). The reason texts are fixed: a
 * fault never says whether the user exists, and never carries a detail or a stack trace (those go
 * to the log, with the request id).
 */
export type SoapFaultKind =
  /** A request fedgate will not answer (malformed, unknown AppliesTo, unsupported token). */
  | 'request-failed'
  /** Wrong user name or password, unknown user, disabled, locked, rate-limited: one answer for all. */
  | 'failed-authentication'
  /** The password is right but expired or must be changed. */
  | 'expired-password'
  /** The wsse:Security header is missing or wrong, or its timestamp is outside the clock skew. */
  | 'invalid-security'
  /** The action (wsa:Action, SOAPAction, Content-Type action) is not this endpoint's. */
  | 'action-not-supported'
  /** A header with s:mustUnderstand="true" that fedgate does not process (SOAP 1.2 §5.2.3). */
  | 'must-understand'
  /** fedgate could not answer: the directory is unreachable, or a bug. */
  | 'receiver';

export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';
export const WSA_NS = 'http://www.w3.org/2005/08/addressing';
export const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const FAULT_ACTION = 'http://www.w3.org/2005/08/addressing/soap/fault';

interface FaultShape {
  readonly code: 'Sender' | 'Receiver' | 'MustUnderstand';
  readonly subcode?: { readonly ns: string; readonly name: string };
  readonly reason: string;
}

const REQUEST_FAILED = 'MSIS3127: The specified request failed.';

// The trust subcodes are in the 1.3 namespace on both endpoints, as §3.3 gives them; Exchange
// matches them by their ending (":FailedAuthentication"), MSAL only shows them.
const SHAPES: Record<SoapFaultKind, FaultShape> = {
  'request-failed': { code: 'Sender', subcode: { ns: WSTRUST_13_NS, name: 'RequestFailed' }, reason: REQUEST_FAILED },
  // Must not contain "MSIS3126": Exchange would report "authorization rules denied" instead of a bad password.
  'failed-authentication': { code: 'Sender', subcode: { ns: WSTRUST_13_NS, name: 'FailedAuthentication' }, reason: 'ID3242: The security token could not be authenticated or authorized.' },
  'expired-password': { code: 'Sender', subcode: { ns: WSTRUST_13_NS, name: 'FailedAuthentication.ExpiredPassword' }, reason: 'The password has expired or must be changed.' },
  'invalid-security': { code: 'Sender', subcode: { ns: WSSE_NS, name: 'InvalidSecurity' }, reason: 'An error occurred when verifying security for the message.' },
  'action-not-supported': { code: 'Sender', subcode: { ns: WSA_NS, name: 'ActionNotSupported' }, reason: 'The message action is not supported at this endpoint.' },
  'must-understand': { code: 'MustUnderstand', reason: 'A header marked mustUnderstand was not understood.' },
  'receiver': { code: 'Receiver', subcode: { ns: WSTRUST_13_NS, name: 'RequestFailed' }, reason: REQUEST_FAILED },
};

/** A request answered with a fault. `detail` is for the log only. */
export class SoapFault extends Error {
  constructor(
    readonly kind: SoapFaultKind,
    readonly detail: string,
    readonly options: {
      /** HTTP status other than 500 (413, 415 and 405: refused before any SOAP processing). */
      readonly status?: number;
      /** expired-password: where to change it (branding.passwordChangeUrl), appended to the reason. */
      readonly passwordChangeUrl?: string;
    } = {},
  ) {
    super(`${kind}: ${detail}`);
    this.name = 'SoapFault';
  }
}

export interface WrittenFault {
  readonly status: number;
  readonly xml: string;
}

/**
 * The fault envelope. A template rather than canonical-xml.ts: s:Text needs xml:lang, which that
 * writer does not write, and nothing here is signed. Every variable part is escaped.
 * `relatesTo` is the request's wsa:MessageID, when it had a usable one.
 */
export function writeSoapFault(fault: SoapFault, relatesTo?: string): WrittenFault {
  const shape = SHAPES[fault.kind];
  // Exchange takes the recovery URL from the first "https:" of the reason to its end (§3.3, S40).
  const reason = fault.kind === 'expired-password' && fault.options.passwordChangeUrl
    ? `${shape.reason} Change it at ${fault.options.passwordChangeUrl}`
    : shape.reason;
  const subcode = shape.subcode
    ? `<s:Subcode><s:Value xmlns:a="${escapeAttribute(shape.subcode.ns)}">a:${shape.subcode.name}</s:Value></s:Subcode>`
    : '';
  const related = relatesTo === undefined ? '' : `<a:RelatesTo>${escapeText(relatesTo)}</a:RelatesTo>`;
  const xml = `<s:Envelope xmlns:s="${SOAP12_NS}" xmlns:a="${WSA_NS}"><s:Header>`
    + `<a:Action s:mustUnderstand="1">${FAULT_ACTION}</a:Action>${related}</s:Header>`
    + `<s:Body><s:Fault><s:Code><s:Value>s:${shape.code}</s:Value>${subcode}</s:Code>`
    + `<s:Reason><s:Text xml:lang="en-US">${escapeText(reason)}</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`;
  return { status: fault.options.status ?? 500, xml };
}
