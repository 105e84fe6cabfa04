/**
 * Independent checks of what the XML token path emits: xmlsec1 (libxml2 + OpenSSL) and xml-crypto 6
 * over @xmldom/xmldom, never our own writer. Keys come from test-only fixtures, so signed outputs
 * are deterministic (RSA PKCS#1 v1.5) and can be compared byte for byte with golden strings.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { expect } from 'vitest';
import { ExclusiveCanonicalization, SignedXml } from 'xml-crypto';
import { parseSigningKey, type SigningKey } from '../../src/keys/key-store.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

export interface TestKey {
  readonly key: SigningKey;
  readonly certPem: string;
  readonly certFile: string;
}

function fixtureKey(name: string): TestKey {
  const certFile = join(FIXTURES, `${name}.cert.pem`);
  const certPem = readFileSync(certFile, 'utf8');
  return { key: parseSigningKey(readFileSync(join(FIXTURES, `${name}.test-key.pem`), 'utf8'), certPem, name), certPem, certFile };
}

/** The token-signing key the tests sign with, and an unrelated one (an attacker's, a wrong rollover cert). */
export const signingKey = fixtureKey('token-signing');
export const otherKey = fixtureKey('other-signing');

export type SignedKind = 'saml11' | 'metadata';

// xml-crypto already looks for Id/ID/id; naming "ID" again would count every element twice and
// trip its duplicate-ID (wrapping) guard, so metadata passes no idAttribute.
const ID_ATTRIBUTE: Record<SignedKind, { xmlsec: string[]; xmlCrypto: string | undefined }> = {
  saml11: { xmlsec: ['--id-attr:AssertionID', 'urn:oasis:names:tc:SAML:1.0:assertion:Assertion'], xmlCrypto: 'AssertionID' },
  metadata: { xmlsec: ['--id-attr:ID', 'urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor'], xmlCrypto: undefined },
};

/** xmlsec1 --verify with the certificate pinned (KeyInfo's certificate is not trusted: it is self-signed). */
export function xmlsec1Verify(xml: string, kind: SignedKind, certFile: string = signingKey.certFile): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fedgate-xmlsec-'));
  try {
    const file = join(dir, 'signed.xml');
    writeFileSync(file, xml, 'utf8');
    try {
      const out = execFileSync('xmlsec1', ['--verify', ...ID_ATTRIBUTE[kind].xmlsec, '--pubkey-cert-pem', certFile, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return { ok: true, output: out };
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string };
      return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** xmlsec1 --verify against a key store's signing key (what the running app signed with). */
export function xmlsec1VerifiesWith(xml: string, kind: SignedKind, key: SigningKey): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'fedgate-cert-'));
  try {
    const certFile = join(dir, 'cert.pem');
    writeFileSync(certFile, key.certificate.toString());
    return xmlsec1Verify(xml, kind, certFile).ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseXml(xml: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, message) => { if (level !== 'warning') errors.push(message); } }).parseFromString(xml, 'text/xml');
  if (errors.length > 0) throw new Error(`not well-formed: ${errors.join('; ')}`);
  return doc;
}

export interface XmlCryptoResult {
  readonly valid: boolean;
  readonly error?: string;
  /** The canonical XML of what the signature actually covers (xml-crypto's getSignedReferences). */
  readonly signedReferences: readonly string[];
}

/**
 * xml-crypto's checkSignature with the certificate pinned (publicCert; KeyInfo is never used).
 * Exactly one ds:Signature is accepted in the document, as a strict consumer would.
 */
export function xmlCryptoVerify(xml: string, kind: SignedKind, certPem: string = signingKey.certPem): XmlCryptoResult {
  try {
    const doc = parseXml(xml);
    const signatures = doc.getElementsByTagNameNS(DSIG, 'Signature');
    if (signatures.length !== 1) return { valid: false, error: `${signatures.length} signatures`, signedReferences: [] };
    const idAttribute = ID_ATTRIBUTE[kind].xmlCrypto;
    const sig = new SignedXml(idAttribute === undefined ? { publicCert: certPem } : { publicCert: certPem, idAttribute });
    sig.loadSignature(signatures.item(0) as unknown as Parameters<SignedXml['loadSignature']>[0]);
    const valid = sig.checkSignature(xml);
    return { valid, signedReferences: valid ? sig.getSignedReferences() : [] };
  } catch (err) {
    return { valid: false, error: (err as Error).message, signedReferences: [] };
  }
}

/** What xml-crypto's exclusive c14n makes of the parsed element: equal to the input iff the input was canonical. */
export function xmlCryptoCanonical(element: Element, inclusiveNamespacesPrefixList: string[] = []): string {
  const c14n = new ExclusiveCanonicalization();
  return c14n.process(element as unknown as Parameters<ExclusiveCanonicalization['process']>[0], { inclusiveNamespacesPrefixList });
}

/** The first element with this namespace and local name, or a failure. */
export function firstElement(doc: Document | Element, ns: string, localName: string): Element {
  const found = doc.getElementsByTagNameNS(ns, localName).item(0);
  if (!found) throw new Error(`no {${ns}}${localName}`);
  return found;
}

/** The Signature element removed (what the enveloped-signature transform sees), for comparing with signed references. */
export function withoutSignature(signed: string): string {
  const start = signed.indexOf('<ds:Signature ');
  const end = signed.indexOf('</ds:Signature>') + '</ds:Signature>'.length;
  return signed.slice(0, start) + signed.slice(end);
}

/**
 * Both verifiers accept the document, its one signature covers the whole signed element (the
 * document element, signature removed), and the bytes are what xml-crypto's exclusive c14n makes of them.
 */
export function expectVerifiedAndCanonical(xml: string, kind: SignedKind, inclusiveNamespacesPrefixList: string[] = []): void {
  const xmlsec = xmlsec1Verify(xml, kind);
  expect(xmlsec.ok, xmlsec.output).toBe(true);
  const result = xmlCryptoVerify(xml, kind);
  expect(result.valid, result.error).toBe(true);
  expect(result.signedReferences).toEqual([withoutSignature(xml)]);
  expect(xmlCryptoCanonical(parseXml(xml).documentElement as Element, inclusiveNamespacesPrefixList)).toBe(xml);
}
