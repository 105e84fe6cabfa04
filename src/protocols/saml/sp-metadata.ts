/**
 * A SAML 2.0 service provider's metadata (saml-metadata-2.0-os) read into a plain object: what
 * fedgate needs from the SPSSODescriptor, already checked, so the registry only merges it with the
 * configuration. The XML comes from a file or a URL, i.e. from outside: it goes through the one
 * hardened parser, and when a metadata signing certificate is configured only the element the
 * signature covers (verifySignedElement's re-parsed copy) is read, never the fetched document.
 * Anything odd is refused with a message an operator can act on, rather than guessed at.
 */
import { X509Certificate } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { SAML_NAMEID_FORMATS, type SamlNameIdFormat } from '../../config/schema.js';
import { XMLDSIG_NS } from '../../xml/enveloped-signature.js';
import { parseXml, XmlRejectedError } from '../../xml/parse-xml.js';
import { DEFAULT_DIGEST_ALGORITHMS, DEFAULT_SIGNATURE_ALGORITHMS, verifySignedElement } from '../../xml/verify-signed.js';
import { SAML_BINDING, SAML_NS } from './saml-constants.js';
import type { AssertionConsumerService, SingleLogoutService } from './service-provider.js';

export interface SpMetadata {
  readonly entityId: string;
  /** The earliest validUntil of the entity and its enclosing descriptors (ms since the epoch). */
  readonly validUntil: number | undefined;
  /** HTTP-POST endpoints only, the default first (saml-metadata §2.2.3); never empty. */
  readonly assertionConsumerServices: readonly AssertionConsumerService[];
  readonly singleLogout: SingleLogoutService | undefined;
  /** Base64 DER; KeyDescriptors with use="signing" or no use. */
  readonly signingCertificates: readonly string[];
  /** Base64 DER; KeyDescriptors with use="encryption" or no use. */
  readonly encryptionCertificates: readonly string[];
  readonly authnRequestsSigned: boolean | undefined;
  readonly wantAssertionsSigned: boolean | undefined;
  /** The NameIDFormats listed that fedgate knows, in the metadata's order. */
  readonly nameIdFormats: readonly SamlNameIdFormat[];
}

export interface ReadSpMetadataOptions {
  /** The configured entityID: required to pick an entity out of an EntitiesDescriptor, checked otherwise. */
  readonly entityId?: string | undefined;
  /** When set, the metadata must carry an enveloped signature (on its root element) by this certificate. */
  readonly signingCertificate?: string | undefined;
  /** Clock for validUntil (ms since the epoch). */
  readonly now?: number;
}

/** Metadata fedgate will not use; the message says why, for the operator's log. */
export class SpMetadataError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpMetadataError';
  }
}

/** Metadata can be a large aggregate; the parser's default (256 KiB) is sized for protocol messages. */
export const MAX_METADATA_BYTES = 1024 * 1024;

const SAML2_PROTOCOL = SAML_NS.protocol;
const FORMAT_NAMES: ReadonlyMap<string, SamlNameIdFormat> = new Map(
  Object.entries(SAML_NAMEID_FORMATS).map(([name, uri]) => [uri, name as SamlNameIdFormat]),
);

const problem = (message: string): never => { throw new SpMetadataError(message); };

/** Reads SP metadata or throws SpMetadataError (an XmlRejectedError from the parser or verifier is its cause). */
export function readSpMetadata(xml: string | Buffer, options: ReadSpMetadataOptions = {}): SpMetadata {
  let root: Element;
  try {
    const doc = parseXml(xml, { maxBytes: MAX_METADATA_BYTES });
    root = options.signingCertificate === undefined ? doc.documentElement! : verifySignedElement(doc, {
      idAttribute: 'ID',
      trustedCertificates: [options.signingCertificate],
      allowedSignatureAlgorithms: DEFAULT_SIGNATURE_ALGORITHMS,
      allowedDigestAlgorithms: DEFAULT_DIGEST_ALGORITHMS,
      expectedRootNames: [{ ns: SAML_NS.metadata, localName: 'EntityDescriptor' }, { ns: SAML_NS.metadata, localName: 'EntitiesDescriptor' }],
    }).element;
  } catch (err) {
    if (err instanceof XmlRejectedError) {
      const signed = options.signingCertificate !== undefined;
      throw new SpMetadataError(`the metadata was refused (${err.detail ?? err.reason})${signed ? ': it must be signed by the configured metadataSigningCertificate' : ''}`, { cause: err });
    }
    throw err;
  }
  const now = options.now ?? Date.now();
  const { entity, enclosing } = selectEntity(root, options.entityId);
  const entityId = entity.getAttribute('entityID') ?? '';
  if (entityId === '') problem('the EntityDescriptor has no entityID');
  if (options.entityId !== undefined && entityId !== options.entityId) {
    problem(`the metadata is for entityID ${entityId}, not the configured identifier ${options.entityId}`);
  }
  const sp = mdChildren(entity, 'SPSSODescriptor').find((d) => (d.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML2_PROTOCOL));
  if (!sp) return problem(`the metadata of ${entityId} has no SPSSODescriptor supporting ${SAML2_PROTOCOL}`);
  const keys = readKeyDescriptors(sp);
  return {
    entityId,
    validUntil: earliestValidUntil([...enclosing, entity, sp], now),
    assertionConsumerServices: readAssertionConsumerServices(sp),
    singleLogout: readSingleLogout(sp),
    signingCertificates: keys.signing,
    encryptionCertificates: keys.encryption,
    authnRequestsSigned: readBoolean(sp, 'AuthnRequestsSigned'),
    wantAssertionsSigned: readBoolean(sp, 'WantAssertionsSigned'),
    nameIdFormats: [...new Set(mdChildren(sp, 'NameIDFormat').map((e) => FORMAT_NAMES.get(text(e))).filter((f) => f !== undefined))],
  };
}

/** The EntityDescriptor to read, and the EntitiesDescriptors around it (their validUntil applies too). */
function selectEntity(root: Element, entityId: string | undefined): { entity: Element; enclosing: Element[] } {
  if (root.namespaceURI === SAML_NS.metadata && root.localName === 'EntityDescriptor') return { entity: root, enclosing: [] };
  if (root.namespaceURI !== SAML_NS.metadata || root.localName !== 'EntitiesDescriptor') {
    return problem(`the root element is {${root.namespaceURI ?? ''}}${root.localName ?? ''}, not an md:EntityDescriptor or md:EntitiesDescriptor`);
  }
  if (entityId === undefined) return problem('the metadata is an EntitiesDescriptor: configure the SP\'s identifier to pick its entity');
  const found: { entity: Element; enclosing: Element[] }[] = [];
  const walk = (group: Element, enclosing: Element[]): void => {
    for (const e of mdChildren(group, 'EntityDescriptor')) if (e.getAttribute('entityID') === entityId) found.push({ entity: e, enclosing: [...enclosing, group] });
    for (const g of mdChildren(group, 'EntitiesDescriptor')) walk(g, [...enclosing, group]);
  };
  walk(root, []);
  // Two descriptors for one entity would leave fedgate choosing between two sets of endpoints and keys.
  if (found.length > 1) problem(`the EntitiesDescriptor holds ${found.length} EntityDescriptors for ${entityId}`);
  return found[0] ?? problem(`the EntitiesDescriptor holds no EntityDescriptor for ${entityId}`);
}

/** Metadata past its validUntil must not be used (saml-metadata §2.2.1); returns the earliest. */
function earliestValidUntil(elements: readonly Element[], now: number): number | undefined {
  let earliest: number | undefined;
  for (const e of elements) {
    const value = e.getAttribute('validUntil');
    if (value === null || value === '') continue;
    // xs:dateTime; Date.parse alone would also take "March 3" and guess the rest.
    const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(time)) problem(`validUntil ${JSON.stringify(value)} on ${e.localName ?? ''} is not an xs:dateTime`);
    if (time <= now) problem(`the metadata expired at ${value} (validUntil on ${e.localName ?? ''}): ask the SP for current metadata`);
    if (earliest === undefined || time < earliest) earliest = time;
  }
  return earliest;
}

function readAssertionConsumerServices(sp: Element): AssertionConsumerService[] {
  const all = mdChildren(sp, 'AssertionConsumerService');
  const indexes = new Set<number>();
  const post: { url: string; index: number; isDefault: boolean | undefined }[] = [];
  for (const e of all) {
    const index = readIndex(e);
    // An AuthnRequest names an ACS by index: one index meaning two endpoints is ambiguous.
    if (indexes.has(index)) problem(`two AssertionConsumerService elements have index ${index}`);
    indexes.add(index);
    // fedgate answers with HTTP-POST only; Artifact, PAOS and others are simply not offered.
    if (e.getAttribute('Binding') !== SAML_BINDING.post) continue;
    post.push({ url: readUrl(e, 'Location'), index, isDefault: readBoolean(e, 'isDefault') });
  }
  if (post.length === 0) problem('the SPSSODescriptor has no AssertionConsumerService with the HTTP-POST binding (the only one fedgate sends)');
  // saml-metadata §2.2.3: the first isDefault="true", else the first without isDefault="false", else the first.
  const chosen = post.find((a) => a.isDefault === true) ?? post.find((a) => a.isDefault === undefined) ?? post[0]!;
  return [chosen, ...post.filter((a) => a !== chosen)].map((a) => ({ url: a.url, index: a.index, isDefault: a === chosen }));
}

function readIndex(e: Element): number {
  const value = e.getAttribute('index') ?? '';
  // xs:unsignedShort, and required by IndexedEndpointType.
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) problem(`an AssertionConsumerService has index ${JSON.stringify(value)}, not a number from 0 to 65535`);
  return Number(value);
}

/** Redirect preferred (a GET is the lighter front-channel hop), else POST; SOAP and others are not used. */
function readSingleLogout(sp: Element): SingleLogoutService | undefined {
  const services = mdChildren(sp, 'SingleLogoutService');
  for (const [binding, uri] of [['redirect', SAML_BINDING.redirect], ['post', SAML_BINDING.post]] as const) {
    const e = services.find((s) => s.getAttribute('Binding') === uri);
    if (!e) continue;
    const url = readUrl(e, 'Location');
    const response = e.getAttribute('ResponseLocation');
    return { binding, url, responseUrl: response === null || response === '' ? url : readUrl(e, 'ResponseLocation') };
  }
  return undefined;
}

function readKeyDescriptors(sp: Element): { signing: string[]; encryption: string[] } {
  const signing: string[] = [];
  const encryption: string[] = [];
  for (const kd of mdChildren(sp, 'KeyDescriptor')) {
    const use = kd.getAttribute('use') ?? '';
    if (use !== '' && use !== 'signing' && use !== 'encryption') problem(`a KeyDescriptor has use ${JSON.stringify(use)}, not signing or encryption`);
    for (const certificate of keyDescriptorCertificates(kd)) {
      // No use: the key serves both (saml-metadata §2.4.1.1).
      if (use !== 'encryption' && !signing.includes(certificate)) signing.push(certificate);
      if (use !== 'signing' && !encryption.includes(certificate)) encryption.push(certificate);
    }
  }
  return { signing, encryption };
}

/** ds:KeyInfo/ds:X509Data/ds:X509Certificate values, each checked to be a certificate. */
function keyDescriptorCertificates(kd: Element): string[] {
  const out: string[] = [];
  for (const keyInfo of children(kd, XMLDSIG_NS, 'KeyInfo')) {
    for (const data of children(keyInfo, XMLDSIG_NS, 'X509Data')) {
      for (const c of children(data, XMLDSIG_NS, 'X509Certificate')) {
        const base64 = text(c).replace(/\s+/g, '');
        try {
          if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new Error('not base64');
          new X509Certificate(Buffer.from(base64, 'base64'));
        } catch {
          problem('a KeyDescriptor holds an X509Certificate that is not a valid X.509 certificate');
        }
        out.push(base64);
      }
    }
  }
  return out;
}

/** An endpoint URL fedgate will send a browser to: absolute http(s), nothing else (no javascript:, data:, …). */
function readUrl(e: Element, attribute: string): string {
  const value = e.getAttribute(attribute) ?? '';
  // Kept as written (requests name their ACS by exact string); the pattern refuses forms such as
  // "https:host" or " https://…" that URL parsers repair silently.
  if (!/^https?:\/\/[^\s/?#]+[^\s]*$/i.test(value) || !URL.canParse(value)) {
    problem(`${e.localName ?? ''} ${attribute} ${JSON.stringify(value.slice(0, 200))} is not an http(s) URL`);
  }
  return value;
}

/** xs:boolean; absent is undefined, anything but true/false/1/0 a problem. */
function readBoolean(e: Element, attribute: string): boolean | undefined {
  const value = e.getAttribute(attribute);
  if (value === null || value === '') return undefined;
  const trimmed = value.trim();
  if (trimmed === 'true' || trimmed === '1') return true;
  if (trimmed === 'false' || trimmed === '0') return false;
  return problem(`${e.localName ?? ''} ${attribute} is ${JSON.stringify(value.slice(0, 40))}, not true or false`);
}

function mdChildren(parent: Element, localName: string): Element[] {
  return children(parent, SAML_NS.metadata, localName);
}

function children(parent: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === localName) out.push(n as Element);
  }
  return out;
}

/** Text content, whitespace-trimmed (xs:anyURI and base64 values carry no meaningful edge spaces). */
function text(e: Element): string {
  return (e.textContent ?? '').trim();
}
