import type { Element } from '@xmldom/xmldom';
import { WSU_NS } from '../wsfed/rstr.js';
import { SoapFault, WSSE_NS } from './soap-fault.js';
import { childElements, isElement, optionalChild, requiredChild, textContent } from './soap-envelope.js';

/**
 * The wsse:Security header of an RST (WS-Security 1.0): its wsu:Timestamp and, in mixed mode,
 * the wsse:UsernameToken with a plain-text password (TLS protects it; nothing is signed, §3.2).
 * Anything else in the header is refused: fedgate would not check it, and a client must not think
 * it was checked.
 */
export interface WsSecurityHeader {
  readonly timestamp: { readonly created: Date; readonly expires: Date } | undefined;
  readonly usernameToken: { readonly username: string; readonly password: string } | undefined;
}

const PASSWORD_TEXT = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';

const invalid = (detail: string) => new SoapFault('invalid-security', detail);

/**
 * xs:dateTime as clients write it: MSAL without fractions, Exchange with .NET's seven digits
 * ("o"). A zone is required: a local time means nothing here.
 */
const DATE_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

export function parseDateTime(value: string): Date | undefined {
  const m = DATE_TIME.exec(value.trim());
  if (!m) return undefined;
  const date = new Date(`${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}${m[3]}`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function readTimestamp(timestamp: Element): WsSecurityHeader['timestamp'] {
  const created = parseDateTime(textContent(requiredChild(timestamp, WSU_NS, 'Created', invalid)));
  const expires = parseDateTime(textContent(requiredChild(timestamp, WSU_NS, 'Expires', invalid)));
  if (!created || !expires) throw invalid('wsu:Timestamp Created/Expires are not xs:dateTime with a zone');
  if (childElements(timestamp).length !== 2) throw invalid('wsu:Timestamp holds more than Created and Expires');
  return { created, expires };
}

function readUsernameToken(token: Element): WsSecurityHeader['usernameToken'] {
  const username = textContent(requiredChild(token, WSSE_NS, 'Username', invalid)).trim();
  const passwordElement = requiredChild(token, WSSE_NS, 'Password', invalid);
  const type = passwordElement.getAttribute('Type');
  // A digest cannot be checked against a directory that only binds with the password.
  if (type && type !== PASSWORD_TEXT) throw invalid(`UsernameToken password type ${type}`);
  for (const e of childElements(token)) {
    const known = isElement(e, WSSE_NS, 'Username') || isElement(e, WSSE_NS, 'Password')
      // Nonce and Created belong to digests; some clients send them with text passwords too.
      || isElement(e, WSSE_NS, 'Nonce') || isElement(e, WSU_NS, 'Created');
    if (!known) throw invalid(`unexpected {${String(e.namespaceURI)}}${e.localName} in UsernameToken`);
  }
  return { username, password: textContent(passwordElement) };
}

export function readSecurityHeader(security: Element): WsSecurityHeader {
  for (const e of childElements(security)) {
    if (!isElement(e, WSU_NS, 'Timestamp') && !isElement(e, WSSE_NS, 'UsernameToken')) {
      throw invalid(`unexpected {${String(e.namespaceURI)}}${e.localName} in wsse:Security`);
    }
  }
  const timestamp = optionalChild(security, WSU_NS, 'Timestamp', invalid);
  const token = optionalChild(security, WSSE_NS, 'UsernameToken', invalid);
  return {
    timestamp: timestamp ? readTimestamp(timestamp) : undefined,
    usernameToken: token ? readUsernameToken(token) : undefined,
  };
}

/**
 * The timestamp must be current within the clock skew both ways: not created in the future, not
 * expired (WS-Security 1.0 §10). Out of skew is InvalidSecurity, which Exchange reports as a
 * possible clock problem (§3.3).
 */
export function checkTimestamp(timestamp: WsSecurityHeader['timestamp'], now: number, clockSkewMs: number): void {
  if (!timestamp) throw invalid('no wsu:Timestamp in wsse:Security');
  if (timestamp.expires.getTime() < timestamp.created.getTime()) throw invalid('wsu:Timestamp expires before it is created');
  if (timestamp.created.getTime() > now + clockSkewMs) throw invalid(`wsu:Timestamp created ${timestamp.created.toISOString()}, in the future beyond the clock skew`);
  if (timestamp.expires.getTime() <= now - clockSkewMs) throw invalid(`wsu:Timestamp expired ${timestamp.expires.toISOString()}, beyond the clock skew`);
}
