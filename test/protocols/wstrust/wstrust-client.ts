import { DOMParser, type Element } from '@xmldom/xmldom';
import request from 'supertest';
import { expect } from 'vitest';
import type { TestApp } from '../../harness/app.js';
import { validateLoginSrfPost, type EntraTenant, type EntraVerdict } from '../../entra/login-srf.js';
import { endpointPath, exchangeHeaders, exchangeRst, msalHeaders, msalRst, type RstOptions, type Version } from './rst-fixtures.js';

/**
 * The response side of the clients of entra-federation.md §3.3, written from their sources:
 * MSAL's wstrust_response.py (the assertion cut out by regex, faults read by path) and Exchange's
 * federated-STS client (XPath on the 2005 shape, only a 200 carries a token, faults read from a
 * 500). Never fedgate's own reader.
 */
export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  t2005: 'http://schemas.xmlsoap.org/ws/2005/02/trust',
  t13: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512',
  saml: 'urn:oasis:names:tc:SAML:1.0:assertion',
  wsa: 'http://www.w3.org/2005/08/addressing',
} as const;

export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

export async function post(t: TestApp, path: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const res = await request(t.app).post(path).set(headers).send(Buffer.from(body, 'utf8'));
  return { status: res.status, contentType: String(res.headers['content-type']), text: res.text };
}

export const postMsal = (t: TestApp, version: Version, o: RstOptions) => post(t, endpointPath(version), msalRst(version, o), msalHeaders(version));
export const postExchange = (t: TestApp, o: RstOptions) => post(t, endpointPath('2005'), exchangeRst(o), exchangeHeaders);

/** wstrust_response.py findall_content: the raw text inside every <prefix:tag …>…</prefix:tag (greedy, DOTALL). */
export function findallContent(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<(?:\\w+:)?${tag}(?:[^>]*)>(.*)</(?:\\w+:)?${tag}`, 'gs'))].map((m) => m[1]!);
}

/** wstrust_response.py parse_token_by_re: the assertion's exact bytes and the TokenType. */
export function msalToken(body: string): { token: string; type: string } | undefined {
  for (const rstr of findallContent(body, 'RequestSecurityTokenResponse')) {
    const tokenTypes = findallContent(rstr, 'TokenType');
    const tokens = findallContent(rstr, 'RequestedSecurityToken');
    if (tokenTypes.length > 0 && tokens.length > 0) {
      expect(['urn:oasis:names:tc:SAML:1.0:assertion', 'urn:oasis:names:tc:SAML:2.0:assertion']).toContain(tokenTypes[0]);
      // MSAL: tokens[0].encode('us-ascii')
      expect(tokens[0]).toMatch(/^[\x00-\x7f]*$/);
      return { token: tokens[0]!, type: tokenTypes[0]! };
    }
  }
  return undefined;
}

const parse = (xml: string) => new DOMParser({ onError: (level, msg) => { if (level !== 'warning') throw new Error(msg); } }).parseFromString(xml, 'text/xml');

function childrenNamed(parent: Element, ns: string, local: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === local) out.push(n as Element);
  }
  return out;
}

/** Follows a path of child elements (XPath's /a/b/c). */
export function path(xml: string, ...steps: (readonly [string, string])[]): Element[] {
  const root = parse(xml).documentElement!;
  const [first, ...rest] = steps;
  let current = root.namespaceURI === first![0] && root.localName === first![1] ? [root] : [];
  for (const [ns, local] of rest) current = current.flatMap((e) => childrenNamed(e, ns, local));
  return current;
}

/** MSAL parse_error: Reason/Text and Subcode/Value. */
export function msalFault(body: string): { reason: string; code: string } {
  const reason = path(body, [NS.s, 'Envelope'], [NS.s, 'Body'], [NS.s, 'Fault'], [NS.s, 'Reason'], [NS.s, 'Text'])[0]?.textContent ?? '';
  const code = path(body, [NS.s, 'Envelope'], [NS.s, 'Body'], [NS.s, 'Fault'], [NS.s, 'Code'], [NS.s, 'Subcode'], [NS.s, 'Value'])[0]?.textContent ?? '';
  return { reason, code };
}

/** Exchange's XPath /s:Envelope/s:Body/t:RequestSecurityTokenResponse/t:RequestedSecurityToken/saml:Assertion (2005). */
export function exchangeAssertion(body: string): Element | undefined {
  return path(body, [NS.s, 'Envelope'], [NS.s, 'Body'], [NS.t2005, 'RequestSecurityTokenResponse'], [NS.t2005, 'RequestedSecurityToken'], [NS.saml, 'Assertion'])[0];
}

/**
 * What Entra makes of a WS-Trust token: the client forwards the assertion alone (MSAL's
 * saml1_1-bearer grant, Exchange's logon), so it is checked by the Entra stand-in of the WS-Fed
 * issue inside a neutral 2005 RSTR written here, not by fedgate.
 */
export function entraVerdict(assertion: string, tenant: EntraTenant, sentAt: Date): EntraVerdict {
  const now = new Date();
  const wresult = '<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust">'
    + '<t:Lifetime><wsu:Created xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">' + now.toISOString()
    + '</wsu:Created><wsu:Expires xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">' + new Date(now.getTime() + 3_600_000).toISOString()
    + '</wsu:Expires></t:Lifetime><t:RequestedSecurityToken>' + assertion + '</t:RequestedSecurityToken>'
    + '<t:TokenType>urn:oasis:names:tc:SAML:1.0:assertion</t:TokenType><t:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</t:RequestType>'
    + '<t:KeyType>http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey</t:KeyType></t:RequestSecurityTokenResponse>';
  return validateLoginSrfPost({ wa: 'wsignin1.0', wresult, wctx: '' }, tenant, { wctx: '', sentAt });
}
