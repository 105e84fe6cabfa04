/**
 * The attacker's toolbox for the SAML HTTP attack corpus: genuine messages of the test SP
 * (test/attacks/xml), freshened for the running app and signed with the fixture key, the
 * signature-wrapping variants derived from them, and Redirect-binding queries signed (or forged)
 * parameter by parameter.
 */
import { createHmac, sign as signBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Element } from '@xmldom/xmldom';
import type { XmlRejectionReason } from '../../src/xml/xml-rejected-error.js';
import { redirectEncoded } from '../http/saml-flow.js';
import { DSIG, otherKey, signingKey, type TestKey } from '../xml/signature-oracles.js';
import { authnRequestTemplate, clone, dom, first, ownSignature, SAML, sign, text, withoutOwnSignature } from '../xml/inbound/signed-samples.js';

export const BASE = 'http://127.0.0.1:8080';
/** The SP of the templates: signed requests required, SHA-1 not allowed. */
export const STRICT_SP = 'https://sp.example.test/metadata';
/** Unsigned requests allowed, IdP-initiated sign-on allowed. */
export const OPEN_SP = 'https://open.example.test';
export const OPEN_ACS = 'https://open.example.test/acs';

const SAML_DIR = join(dirname(fileURLToPath(import.meta.url)), 'xml/saml');
const TEMPLATES = {
  AuthnRequest: { xml: authnRequestTemplate, path: '/saml/sso' },
  LogoutRequest: { xml: readFileSync(join(SAML_DIR, 'logout-request.xml'), 'utf8').trim(), path: '/saml/slo' },
  LogoutResponse: { xml: readFileSync(join(SAML_DIR, 'logout-response.xml'), 'utf8').trim(), path: '/saml/slo' },
} as const;
export type MessageKind = keyof typeof TEMPLATES;
export const endpointOf = (kind: MessageKind): string => TEMPLATES[kind].path;

let counter = 0;

export interface Freshen {
  readonly issuer?: string;
  readonly destination?: string;
  /** Attributes to set on the root (AssertionConsumerServiceURL, ProtocolBinding, ...); undefined removes. */
  readonly attributes?: Readonly<Record<string, string | undefined>>;
}

/** The template with a unique ID, the current instant and this app's endpoint (a replay check would see the same ID otherwise). */
export function message(kind: MessageKind, options: Freshen = {}): string {
  const doc = dom(TEMPLATES[kind].xml);
  const root = doc.documentElement!;
  root.setAttribute('ID', `_attack-${process.pid}-${++counter}`);
  root.setAttribute('IssueInstant', new Date().toISOString());
  root.setAttribute('Destination', options.destination ?? `${BASE}${TEMPLATES[kind].path}`);
  for (const [name, value] of Object.entries(options.attributes ?? {})) {
    if (value === undefined) root.removeAttribute(name);
    else root.setAttribute(name, value);
  }
  const issuer = first(root, SAML, 'Issuer');
  issuer.textContent = options.issuer ?? STRICT_SP;
  return text(doc);
}

export const signed = (kind: MessageKind, options: Freshen & { key?: TestKey; signatureAlgorithm?: string; digestAlgorithm?: string; hmacSecret?: string } = {}): string =>
  sign(message(kind, options), { localName: kind, ...options });

/** Puts `node` right after the root's Issuer (where SAML's schema puts a Signature). */
function afterIssuer(root: Element, node: Element): void {
  root.insertBefore(node, first(root, SAML, 'Issuer').nextSibling);
}

/** A copy of the root under another ID, unsigned: the attacker's message. */
function evilTwin(root: Element, id: string): Element {
  const evil = withoutOwnSignature(root);
  evil.setAttribute('ID', id);
  return evil;
}

/**
 * Signature wrapping (XSW1-8 as they apply to a protocol message) and its relatives, each with the
 * verifier's reason for refusing it: what the signature covers is never what gets read.
 */
export const WRAPPING: Readonly<Record<string, { reason: XmlRejectionReason; build: (kind: MessageKind) => string }>> = {
  'the signed message wrapped in an unsigned one': {
    reason: 'signature-missing',
    build: (kind) => surgery(signed(kind), (root) => { const evil = evilTwin(root, '_evil'); evil.appendChild(clone(root)); return evil; }),
  },
  'the signature moved to the attacker\'s message, the signed one inside it': {
    reason: 'reference-uri',
    build: (kind) => surgery(signed(kind), (root) => {
      const evil = evilTwin(root, '_evil');
      afterIssuer(evil, clone(ownSignature(root)));
      evil.appendChild(withoutOwnSignature(root));
      return evil;
    }),
  },
  'the attacker\'s message takes the signed one\'s ID (ID duplication)': {
    reason: 'duplicate-id',
    build: (kind) => surgery(signed(kind), (root) => {
      const evil = evilTwin(root, root.getAttribute('ID')!);
      afterIssuer(evil, clone(ownSignature(root)));
      evil.appendChild(clone(root));
      return evil;
    }),
  },
  'the signed message hidden in the signature\'s ds:Object (XSW8)': {
    reason: 'signature-malformed',
    build: (kind) => surgery(signed(kind), (root) => {
      const evil = evilTwin(root, '_evil');
      const signature = clone(ownSignature(root));
      const object = root.ownerDocument!.createElementNS(DSIG, 'ds:Object');
      object.appendChild(withoutOwnSignature(root));
      signature.appendChild(object);
      afterIssuer(evil, signature);
      return evil;
    }),
  },
  'a second signature beside the first (cloned)': {
    reason: 'signature-multiple',
    build: (kind) => surgery(signed(kind), (root) => { afterIssuer(root, clone(ownSignature(root))); return root; }),
  },
  'a signed attribute changed after signing': {
    reason: 'digest-mismatch',
    build: (kind) => surgery(signed(kind), (root) => { root.setAttribute('IssueInstant', new Date(Date.now() - 1000).toISOString()); return root; }),
  },
  'the signature stripped where signatures are required': {
    reason: 'signature-missing',
    build: (kind) => surgery(signed(kind), (root) => withoutOwnSignature(root)),
  },
  'signed by a key the SP never registered': {
    reason: 'untrusted-key',
    build: (kind) => signed(kind, { key: otherKey }),
  },
};

function surgery(xml: string, change: (root: Element) => Element): string {
  const doc = dom(xml);
  const root = doc.documentElement!;
  const result = change(root);
  if (result !== root) doc.replaceChild(result, root);
  return text(doc);
}

export interface QueryOptions {
  readonly parameter?: 'SAMLRequest' | 'SAMLResponse';
  readonly relayState?: string;
  readonly sigAlg?: string;
  /** The names in the order they are sent; default the binding's order with Signature last. */
  readonly sentOrder?: readonly string[];
}

/**
 * A Redirect-binding query signed as saml-bindings §3.4.4.1 says: the URL-encoded parameters in
 * the binding's order, RSA (or, to forge one, HMAC keyed with the SP's public certificate).
 */
export function signedQuery(xml: string, options: QueryOptions = {}): string {
  const sigAlg = options.sigAlg ?? 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
  const pairs = new Map<string, string>([[options.parameter ?? 'SAMLRequest', redirectEncoded(xml)]]);
  if (options.relayState !== undefined) pairs.set('RelayState', options.relayState);
  pairs.set('SigAlg', sigAlg);
  const octets = Buffer.from([...pairs].map(([n, v]) => `${n}=${encodeURIComponent(v)}`).join('&'));
  const signature = /hmac/.test(sigAlg)
    ? createHmac('sha1', signingKey.certPem).update(octets).digest()
    : signBytes(/sha1$/.test(sigAlg) ? 'sha1' : 'sha256', octets, signingKey.key.privateKey);
  pairs.set('Signature', signature.toString('base64'));
  return (options.sentOrder ?? [...pairs.keys()]).map((n) => `${n}=${encodeURIComponent(pairs.get(n) ?? '')}`).join('&');
}
