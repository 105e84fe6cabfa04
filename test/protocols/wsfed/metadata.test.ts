import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { writeGeneratedKey, type SigningKey } from '../../../src/keys/key-store.js';
import { xmlsec1VerifiesWith } from '../../xml/signature-oracles.js';
import { startTestApp, type TestApp } from '../../harness/app.js';
import { fetchMetadataDocument, readIdpMetadata } from '../saml/metadata-consumer.js';
import { readMexAsMsal } from '../wstrust/msal-mex.js';

/** Federation metadata (entra-federation.md §4, §5.3), checked by xmlsec1. */
const xmlsec1VerifiesMetadata = (xml: string, key: SigningKey) => xmlsec1VerifiesWith(xml, 'metadata', key);

const fetchMetadata = (t: TestApp, path = '/FederationMetadata/2007-06/FederationMetadata.xml') => fetchMetadataDocument(t.app, path);

describe('federation metadata', () => {
  it('is signed by the token-signing certificate, names the service and its passive endpoint, at both path spellings', async () => {
    const t = await startTestApp({ server: { baseUrl: 'https://sts.contoso.test' }, federation: { displayName: 'Contoso' } });
    for (const path of ['/FederationMetadata/2007-06/FederationMetadata.xml', '/federationmetadata/2007-06/federationmetadata.xml']) {
      const md = await fetchMetadata(t, path);
      expect(md.status, path).toBe(200);
      expect(md.type).toContain('xml');
      expect(md.xml).toContain('entityID="http://sts.contoso.test/adfs/services/trust"');
      expect(md.xml).toContain('https://sts.contoso.test/adfs/ls/');
      expect(md.xml).toContain(t.services.keys.current.certificateBase64);
      expect(xmlsec1VerifiesMetadata(md.xml, t.services.keys.current)).toBe(true);
      expect(xmlsec1VerifiesMetadata(md.xml.replace('adfs/ls/', 'adfs/evil/'), t.services.keys.current)).toBe(false);
    }
  });

  it('publishes the next signing certificate beside the current one during a rollover', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fedgate-roll-'));
    await writeGeneratedKey(dataDir, 'next', 'sts.contoso.test', 365 * 86_400_000);
    const t = await startTestApp({ dataDir });
    expect(t.services.keys.next).toBeDefined();
    const md = await fetchMetadata(t);
    expect(md.xml).toContain(t.services.keys.current.certificateBase64);
    expect(md.xml).toContain(t.services.keys.next!.certificateBase64);
    // Two roles (WS-Fed STS, SAML IdP), each with both certificates.
    expect(md.xml.match(/<KeyDescriptor use="signing"/g)?.length).toBe(4);
    expect(readIdpMetadata(md.xml).signingCertificates).toEqual([t.services.keys.current.certificateBase64, t.services.keys.next!.certificateBase64]);
    expect(xmlsec1VerifiesMetadata(md.xml, t.services.keys.current)).toBe(true);
  });

  it('carries the SAML 2.0 IdP role after the STS one, at AD FS\'s /adfs/ls/, as an SP reads it', async () => {
    const t = await startTestApp({ server: { baseUrl: 'https://sts.contoso.test' } });
    const sp = readIdpMetadata((await fetchMetadata(t)).xml);
    expect(sp.entityId).toBe('http://sts.contoso.test/adfs/services/trust');
    expect(sp.entityChildren).toEqual(['Signature', 'RoleDescriptor', 'IDPSSODescriptor']);
    expect(sp.signingCertificates).toEqual([t.services.keys.current.certificateBase64]);
    const adfsLs = 'https://sts.contoso.test/adfs/ls/';
    expect([...sp.singleSignOn, ...sp.singleLogout].map((e) => e.location)).toEqual([adfsLs, adfsLs, adfsLs, adfsLs]);
    expect(sp.singleSignOn.map((e) => e.binding)).toEqual(['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST']);
    // The same attributes as /saml/metadata: one list of what the claims pipeline says.
    const standalone = readIdpMetadata((await fetchMetadata(t, '/saml/metadata')).xml);
    expect(sp.attributes).toEqual(standalone.attributes);
    expect(sp.nameIdFormats).toEqual(standalone.nameIdFormats);
  });

  it('points to MEX (SecurityTokenServiceEndpoint) while fedgate serves WS-Trust, and the MEX it names is served; not otherwise', async () => {
    const STS = 'SecurityTokenServiceEndpoint';
    const on = await startTestApp({ server: { baseUrl: 'https://sts.contoso.test' } }); // usernamemixed is on by default
    const md = await fetchMetadata(on);
    expect(xmlsec1VerifiesMetadata(md.xml, on.services.keys.current)).toBe(true);
    const sts = md.xml.slice(md.xml.indexOf(`<fed:${STS}>`), md.xml.indexOf(`</fed:${STS}>`));
    expect(sts).toContain('<wsa:Address>https://sts.contoso.test/adfs/services/trust/2005/usernamemixed</wsa:Address>');
    const mexUrl = /<wsx:MetadataReference><wsa:Address>([^<]+)<\/wsa:Address>/.exec(sts)?.[1];
    expect(mexUrl).toBe('https://sts.contoso.test/adfs/services/trust/mex');
    const mex = await request(on.app).get(new URL(mexUrl!).pathname);
    expect(mex.status).toBe(200);
    expect(readMexAsMsal(mex.text).usernamePassword?.address).toBe('https://sts.contoso.test/adfs/services/trust/13/usernamemixed');

    const off = await startTestApp({ server: { baseUrl: 'https://sts.contoso.test' }, wsTrust: { usernameMixed: false } });
    const plain = await fetchMetadata(off);
    expect(plain.xml).not.toContain(STS);
    expect(plain.xml).not.toContain('/adfs/services/trust/mex');
    expect(xmlsec1VerifiesMetadata(plain.xml, off.services.keys.current)).toBe(true);
    expect(xmlsec1VerifiesMetadata(md.xml.replace('trust/2005/usernamemixed', 'trust/2005/evil'), on.services.keys.current)).toBe(false);
  });
});
