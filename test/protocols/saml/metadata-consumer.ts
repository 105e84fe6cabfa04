/**
 * An SP's reading of IdP metadata, with node-saml's own XML stack (@xmldom/xmldom 0.8 and xpath,
 * resolved from node-saml's install) rather than the @xmldom 0.9 our oracles use: node-saml itself
 * takes the IdP's certificate and URLs as settings and reads no metadata, so this does what an SP
 * does with the document — XPath selections by namespace, as samlify and Shibboleth make them.
 */
import type { App } from '../../../src/app.js';
import request from 'supertest';
import { DOMParser, xpath, type DomNode } from '../../harness/independent-xml.js';

const select = xpath.useNamespaces({
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
});

export interface IdpAsSeenBySp {
  readonly entityId: string;
  /** Children of EntityDescriptor, by local name, in order. */
  readonly entityChildren: readonly string[];
  readonly wantAuthnRequestsSigned: string;
  /** Signing certificates of the IDPSSODescriptor, in document order. */
  readonly signingCertificates: readonly string[];
  readonly encryptionKeyDescriptors: number;
  readonly singleSignOn: readonly { binding: string; location: string }[];
  readonly singleLogout: readonly { binding: string; location: string }[];
  readonly nameIdFormats: readonly string[];
  readonly attributes: readonly { name: string; nameFormat: string; friendlyName: string; values: number }[];
  /** Children of the IDPSSODescriptor, by local name, in order. */
  readonly roleChildren: readonly string[];
}

const text = (nodes: DomNode[]) => nodes.map((n) => (n.textContent ?? '').trim());
const attr = (node: DomNode, name: string) => node.getAttribute(name) ?? '';
const elementChildren = (node: DomNode) => Array.from(node.childNodes).filter((c) => c.nodeType === 1).map((c) => c.localName);

export function readIdpMetadata(xml: string): IdpAsSeenBySp {
  const errors: string[] = [];
  const fail = (msg: string) => { errors.push(msg); };
  const doc = new DOMParser({ errorHandler: { warning: () => undefined, error: fail, fatalError: fail } }).parseFromString(xml, 'text/xml');
  if (errors.length > 0) throw new Error(`metadata not well-formed: ${errors.join('; ')}`);
  const entity = select('/md:EntityDescriptor', doc)[0];
  if (!entity) throw new Error('no md:EntityDescriptor root');
  const roles = select("md:IDPSSODescriptor[contains(@protocolSupportEnumeration, 'urn:oasis:names:tc:SAML:2.0:protocol')]", entity);
  if (roles.length !== 1) throw new Error(`${roles.length} SAML 2.0 IDPSSODescriptors`);
  const role = roles[0]!;
  const endpoints = (name: string) => select(`md:${name}`, role).map((n) => ({ binding: attr(n, 'Binding'), location: attr(n, 'Location') }));
  return {
    entityId: attr(entity, 'entityID'),
    entityChildren: elementChildren(entity),
    wantAuthnRequestsSigned: attr(role, 'WantAuthnRequestsSigned'),
    signingCertificates: text(select("md:KeyDescriptor[not(@use) or @use='signing']/ds:KeyInfo/ds:X509Data/ds:X509Certificate", role)),
    encryptionKeyDescriptors: select("md:KeyDescriptor[@use='encryption']", role).length,
    singleSignOn: endpoints('SingleSignOnService'),
    singleLogout: endpoints('SingleLogoutService'),
    nameIdFormats: text(select('md:NameIDFormat', role)),
    attributes: select('saml:Attribute', role).map((n) => ({
      name: attr(n, 'Name'), nameFormat: attr(n, 'NameFormat'), friendlyName: attr(n, 'FriendlyName'),
      values: select('saml:AttributeValue', n).length,
    })),
    roleChildren: elementChildren(role),
  };
}

/** GET a metadata document from the app, its body as the exact bytes served. */
export async function fetchMetadataDocument(app: App, path: string) {
  const res = await request(app).get(path).buffer(true).parse((r, done) => {
    let body = '';
    r.on('data', (c: Buffer) => { body += c.toString(); });
    r.on('end', () => done(null, body));
  });
  return { status: res.status, type: res.headers['content-type'] as string, cacheControl: res.headers['cache-control'] as string, xml: res.body as string };
}
