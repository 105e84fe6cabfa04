import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeGeneratedKey } from '../../../src/keys/key-store.js';
import { writeSamlMetadata, type SamlMetadataInput } from '../../../src/protocols/saml/idp-metadata.js';
import { startTestApp } from '../../harness/app.js';
import {
  expectVerifiedAndCanonical, otherKey, signingKey, xmlCryptoVerify, xmlsec1Verify, xmlsec1VerifiesWith,
} from '../../xml/signature-oracles.js';
import { fetchMetadataDocument, readIdpMetadata } from './metadata-consumer.js';

/** fedgate's SAML 2.0 IdP metadata (issue 5 part 6; entra-federation.md §4), read as an SP reads it and checked by xmlsec1. */

const CERT = signingKey.key.certificateBase64;
const NEXT_CERT = otherKey.key.certificateBase64;
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const URI_FORMAT = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri';
const UPN = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn';
const GROUP = 'http://schemas.xmlsoap.org/claims/Group';

const input: SamlMetadataInput = {
  id: '_4f0c1a52-6f7e-4c39-9d1e-0b3e2f5a7c11',
  entityId: 'http://sts.example.test/adfs/services/trust',
  signingCertificates: [CERT, NEXT_CERT],
  singleSignOnUrl: 'https://sts.example.test/saml/sso',
  singleLogoutUrl: 'https://sts.example.test/saml/slo',
  attributes: [{ name: UPN, friendlyName: 'UPN' }, { name: GROUP, friendlyName: 'Group & <role>' }],
};

/**
 * The OASIS metadata schema, as Debian's opensaml-schemas and xmltooling-schemas ship it, checked by
 * xmllint offline (a catalog maps the W3C imports to the local copies). Skipped where those packages
 * are not installed (they are not in scripts/install-test-deps.sh yet).
 */
const MD_XSD = '/usr/share/xml/opensaml/saml-schema-metadata-2.0.xsd';
const W3C = '/usr/share/xml/xmltooling';
const haveSchema = existsSync(MD_XSD) && existsSync(`${W3C}/xmldsig-core-schema.xsd`) && existsSync('/usr/bin/xmllint');
function schemaValid(xml: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fedgate-xsd-'));
  try {
    writeFileSync(join(dir, 'catalog.xml'), `<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">${[
      ['http://www.w3.org/TR/2002/REC-xmldsig-core-20020212/xmldsig-core-schema.xsd', 'xmldsig-core-schema.xsd'],
      ['http://www.w3.org/TR/2002/REC-xmlenc-core-20021210/xenc-schema.xsd', 'xenc-schema.xsd'],
      ['http://www.w3.org/2001/xml.xsd', 'xml.xsd'],
    ].map(([url, file]) => `<system systemId="${url}" uri="file://${W3C}/${file}"/>`).join('')}</catalog>`);
    writeFileSync(join(dir, 'md.xml'), xml);
    const out = execFileSync('xmllint', ['--nonet', '--noout', '--schema', MD_XSD, join(dir, 'md.xml')], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XML_CATALOG_FILES: join(dir, 'catalog.xml') },
    });
    return { ok: true, output: out };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('writeSamlMetadata: the standalone signed IdP metadata', () => {
  const xml = writeSamlMetadata(input, signingKey.key);
  const sp = readIdpMetadata(xml);

  it('verifies with xmlsec1 and xml-crypto, the signature covering the whole EntityDescriptor, and is canonical', () => {
    expectVerifiedAndCanonical(xml, 'metadata');
  });

  it('an SP reads entityID, ds:Signature first, one IDPSSODescriptor; no Organization or ContactPerson that was not configured', () => {
    expect(sp.entityId).toBe(input.entityId);
    expect(sp.entityChildren).toEqual(['Signature', 'IDPSSODescriptor']);
    expect(xml.startsWith(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" ID="${input.id}" entityID="${input.entityId}">`)).toBe(true);
  });

  it('children in the schema order; signing certificates current then next; no encryption key; requests not required signed here', () => {
    expect(sp.roleChildren).toEqual([
      'KeyDescriptor', 'KeyDescriptor', 'SingleLogoutService', 'SingleLogoutService',
      'NameIDFormat', 'NameIDFormat', 'NameIDFormat', 'NameIDFormat', 'SingleSignOnService', 'SingleSignOnService', 'Attribute', 'Attribute',
    ]);
    expect(sp.signingCertificates).toEqual([CERT, NEXT_CERT]);
    expect(sp.encryptionKeyDescriptors).toBe(0);
    expect(sp.wantAuthnRequestsSigned).toBe('false');
  });

  it('SSO and SLO over HTTP-Redirect and HTTP-POST; the four NameID formats; attributes with Name, NameFormat uri, FriendlyName and no values', () => {
    expect(sp.singleSignOn).toEqual([{ binding: REDIRECT, location: input.singleSignOnUrl }, { binding: POST, location: input.singleSignOnUrl }]);
    expect(sp.singleLogout).toEqual([{ binding: REDIRECT, location: input.singleLogoutUrl }, { binding: POST, location: input.singleLogoutUrl }]);
    expect(sp.nameIdFormats).toEqual([
      'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
      'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    ]);
    expect(sp.attributes).toEqual([
      { name: UPN, nameFormat: URI_FORMAT, friendlyName: 'UPN', values: 0 },
      { name: GROUP, nameFormat: URI_FORMAT, friendlyName: 'Group & <role>', values: 0 },
    ]);
  });

  it.skipIf(!haveSchema)('is valid against the OASIS SAML 2.0 metadata schema (xmllint), which does reject a wrong value', () => {
    for (const doc of [xml, writeSamlMetadata({ ...input, validUntil: new Date('2030-01-01T00:00:00Z'), cacheDuration: 'PT3600S' }, signingKey.key)]) {
      const result = schemaValid(doc);
      expect(result.ok, result.output).toBe(true);
    }
    expect(schemaValid(xml.replace('WantAuthnRequestsSigned="false"', 'WantAuthnRequestsSigned="no"')).ok).toBe(false);
  });

  it('validUntil and cacheDuration when given', () => {
    const timed = writeSamlMetadata({ ...input, validUntil: new Date('2030-01-01T00:00:00Z'), cacheDuration: 'PT1H' }, signingKey.key);
    expectVerifiedAndCanonical(timed, 'metadata');
    expect(timed).toContain('cacheDuration="PT1H"');
    expect(timed).toContain('validUntil="2030-01-01T00:00:00.000Z"');
    expect(xml).not.toMatch(/validUntil|cacheDuration/);
  });

  it('a swapped-in certificate (a forged rollover), a moved endpoint or a renamed attribute breaks the signature', () => {
    for (const tampered of [
      xml.replace(`<X509Certificate>${NEXT_CERT}</X509Certificate>`, `<X509Certificate>${CERT}</X509Certificate>`),
      xml.replaceAll('https://sts.example.test/saml/sso', 'https://evil.example/saml/sso'),
      xml.replace('FriendlyName="UPN"', 'FriendlyName="Email"'),
      xml.replace('WantAuthnRequestsSigned="false"', 'WantAuthnRequestsSigned="true"'),
    ]) {
      expect(tampered).not.toBe(xml);
      expect(xmlsec1Verify(tampered, 'metadata').ok).toBe(false);
      expect(xmlCryptoVerify(tampered, 'metadata').valid).toBe(false);
    }
    expect(xmlsec1Verify(xml, 'metadata', otherKey.certFile).ok).toBe(false);
  });

  it('needs at least one signing certificate', () => {
    expect(() => writeSamlMetadata({ ...input, signingCertificates: [] }, signingKey.key)).toThrow(/at least one/);
  });
});

describe('GET /saml/metadata', () => {
  it('serves the signed document for fedgate’s entityID and /saml endpoints, with both certificates during a rollover, built once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fedgate-roll-'));
    await writeGeneratedKey(dataDir, 'next', 'sts.contoso.test', 365 * 86_400_000);
    const t = await startTestApp({ server: { baseUrl: 'https://sts.contoso.test' }, dataDir });
    const { current, next } = t.services.keys;
    expect(next).toBeDefined();

    const md = await fetchMetadataDocument(t.app, '/saml/metadata');
    expect(md.status).toBe(200);
    expect(md.type).toMatch(/^application\/samlmetadata\+xml/);
    expect(md.cacheControl).toBe('public, max-age=3600');
    expect(xmlsec1VerifiesWith(md.xml, 'metadata', current)).toBe(true);
    expect(xmlsec1VerifiesWith(md.xml, 'metadata', next!)).toBe(false);

    const sp = readIdpMetadata(md.xml);
    expect(sp.entityId).toBe('http://sts.contoso.test/adfs/services/trust');
    expect(sp.signingCertificates).toEqual([current.certificateBase64, next!.certificateBase64]);
    expect(sp.singleSignOn.map((e) => e.location)).toEqual(['https://sts.contoso.test/saml/sso', 'https://sts.contoso.test/saml/sso']);
    expect(sp.singleLogout.map((e) => e.location)).toEqual(['https://sts.contoso.test/saml/slo', 'https://sts.contoso.test/saml/slo']);
    // The claims of the claims pipeline, each under its claim type URI.
    expect(sp.attributes.map((a) => a.name)).toEqual(expect.arrayContaining([UPN, GROUP, 'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID']));
    expect(sp.attributes.every((a) => a.nameFormat === URI_FORMAT && a.friendlyName.length > 0)).toBe(true);
    expect(md.xml).toContain('cacheDuration="PT3600S"');
    expect(md.xml).not.toContain('validUntil');

    // Signed once at start: the same bytes (same ID, same signature) every time.
    expect((await fetchMetadataDocument(t.app, '/saml/metadata')).xml).toBe(md.xml);
  });
});
