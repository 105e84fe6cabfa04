import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { writeGeneratedKey, type SigningKey } from '../../../src/keys/key-store.js';
import { xmlsec1VerifiesWith } from '../../xml/signature-oracles.js';
import { startTestApp, type TestApp } from '../../harness/app.js';

/** Federation metadata (entra-federation.md §4, §5.3), checked by xmlsec1. */
const xmlsec1VerifiesMetadata = (xml: string, key: SigningKey) => xmlsec1VerifiesWith(xml, 'metadata', key);

const fetchMetadata = async (t: TestApp, path = '/FederationMetadata/2007-06/FederationMetadata.xml') => {
  const res = await request(t.app).get(path).buffer(true).parse((r, done) => {
    let body = '';
    r.on('data', (c: Buffer) => { body += c.toString(); });
    r.on('end', () => done(null, body));
  });
  return { status: res.status, type: res.headers['content-type'] as string, xml: res.body as string };
};

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
    expect(md.xml.match(/<KeyDescriptor use="signing"/g)?.length ?? md.xml.match(/KeyDescriptor[^>]*use="signing"/g)?.length).toBe(2);
    expect(xmlsec1VerifiesMetadata(md.xml, t.services.keys.current)).toBe(true);
  });
});
