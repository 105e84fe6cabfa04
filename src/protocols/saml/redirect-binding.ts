import { sign } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { SIGNATURE_ALGORITHMS } from '../../xml/enveloped-signature.js';
import type { MessageSigner } from './signed-message.js';

/**
 * How outbound SAML messages travel through the browser (saml-bindings-2.0-os §3.4 and §3.5).
 *
 * HTTP-Redirect: the message DEFLATEd (raw, RFC 1951), base64, URL-encoded into SAMLRequest or
 * SAMLResponse; signed, the signature covers the octets `SAMLRequest=…&RelayState=…&SigAlg=…`
 * exactly as they appear in the URL (§3.4.4.1), so they are built once and the same string is both
 * signed and sent. The XML itself is then not signed (the query signature replaces it).
 *
 * HTTP-POST: the message base64-encoded in a form field, for an auto-posting page; any signature
 * is the message's own enveloped one.
 */

export type SamlMessageParameter = 'SAMLRequest' | 'SAMLResponse';

export interface OutboundSamlMessage {
  readonly parameter: SamlMessageParameter;
  /** The message as written by this module's siblings (UTF-8 XML). */
  readonly xml: string;
  /** Echoed as received, or the SP's default; omitted when undefined. */
  readonly relayState?: string | undefined;
}

/** The URL to redirect the browser to; the message's query signed when a signer is given. */
export function redirectBindingUrl(endpoint: string, message: OutboundSamlMessage, signer?: MessageSigner): string {
  if (endpoint.includes('#')) throw new Error('a SAML endpoint URL must not have a fragment');
  const encoded = deflateRawSync(Buffer.from(message.xml, 'utf8')).toString('base64');
  let query = `${message.parameter}=${encodeURIComponent(encoded)}`;
  if (message.relayState !== undefined) query += `&RelayState=${encodeURIComponent(message.relayState)}`;
  if (signer !== undefined) {
    const uris = SIGNATURE_ALGORITHMS[signer.algorithm];
    query += `&SigAlg=${encodeURIComponent(uris.signatureMethod)}`;
    const signature = sign(uris.hash, Buffer.from(query, 'utf8'), signer.key.privateKey).toString('base64');
    query += `&Signature=${encodeURIComponent(signature)}`;
  }
  // An endpoint may carry its own query parameters; the binding's are appended (§3.4.4).
  return `${endpoint}${endpoint.includes('?') ? '&' : '?'}${query}`;
}

export interface PostBindingForm {
  /** The form's action: the SP's ACS or SLO URL. */
  readonly action: string;
  /** The fields to post, in order: the message, then RelayState when there is one. */
  readonly fields: Readonly<Record<string, string>>;
}

/** The auto-post form of the HTTP-POST binding; the page that renders it escapes the values. */
export function postBindingForm(action: string, message: OutboundSamlMessage): PostBindingForm {
  const fields: Record<string, string> = { [message.parameter]: Buffer.from(message.xml, 'utf8').toString('base64') };
  if (message.relayState !== undefined) fields['RelayState'] = message.relayState;
  return { action, fields };
}
