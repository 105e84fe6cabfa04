import { element, namespace } from '../../xml/canonical-xml.js';
import type { IssuedAssertion } from '../wsfed/issue-token.js';
import { rstrElement } from '../wsfed/rstr.js';
import { writeSoapEnvelope } from './soap-envelope.js';
import type { TrustVersion } from './trust-version.js';

/**
 * The successful answer to an RST (entra-federation.md §3.3): the SOAP envelope around the same
 * RSTR as WS-Fed's wresult, bare on 2005 (Exchange reads
 * /s:Envelope/s:Body/t:RequestSecurityTokenResponse/…), inside a
 * RequestSecurityTokenResponseCollection on 1.3. The assertion is embedded byte for byte: MSAL
 * cuts it out of the text by regex and forwards exactly those bytes to Entra.
 */
export interface IssueResponseInput {
  readonly version: TrustVersion;
  readonly token: Pick<IssuedAssertion, 'assertion' | 'issued' | 'expires'>;
  /** The relying party's identifier (= the token's Audience). */
  readonly appliesTo: string;
  /** The request's wsa:MessageID. */
  readonly relatesTo: string | undefined;
}

/** How long the response's own wsu:Timestamp is valid (AD FS: 5 minutes). */
const RESPONSE_VALIDITY_MS = 5 * 60_000;

export function writeIssueResponse(input: IssueResponseInput, now: Date = new Date()): string {
  const { version, token } = input;
  const rstr = rstrElement({ created: token.issued, expires: token.expires, appliesTo: input.appliesTo, assertion: token.assertion }, version);
  const body = version.collection
    ? element(namespace(version.prefix, version.ns), 'RequestSecurityTokenResponseCollection', {}, [rstr])
    : rstr;
  return writeSoapEnvelope({
    action: version.responseAction,
    relatesTo: input.relatesTo,
    created: now,
    expires: new Date(now.getTime() + RESPONSE_VALIDITY_MS),
    body,
  });
}
