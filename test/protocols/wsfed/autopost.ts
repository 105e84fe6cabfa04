import { expect } from 'vitest';
import type { SigningKey } from '../../../src/keys/key-store.js';
import { xmlsec1VerifiesWith } from '../../xml/signature-oracles.js';

/**
 * Reads the auto-post page the way a browser does: the form's action and its hidden fields,
 * HTML entities decoded (what the browser would post).
 */
export interface PostedForm {
  readonly action: string;
  readonly fields: Record<string, string>;
}

const decode = (s: string) =>
  s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

export function readAutopost(html: string): PostedForm {
  const form = /<form method="post" action="([^"]*)" id="autopost">([\s\S]*?)<\/form>/.exec(html);
  expect(form, 'an auto-post form').not.toBeNull();
  const fields: Record<string, string> = {};
  for (const m of form![2]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[decode(m[1]!)] = decode(m[2]!);
  return { action: decode(form![1]!), fields };
}

/** The signed assertion inside a wresult, byte for byte as it was signed. */
export function assertionOf(wresult: string): string {
  const m = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(wresult);
  expect(m, 'a SAML 1.1 assertion in wresult').not.toBeNull();
  return m![0];
}

/** xmlsec1 (Debian's, an independent implementation) verifies the assertion with the certificate. */
export function xmlsec1Verifies(xml: string, key: SigningKey): boolean {
  return xmlsec1VerifiesWith(xml, 'saml11', key);
}
