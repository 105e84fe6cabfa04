import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateServiceProviderMetadata } from '@node-saml/node-saml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createServiceProviderRegistry, type ServiceProviderRegistry } from '../../../src/protocols/saml/service-providers.js';
import { DEFAULT_DIGEST_ALGORITHMS, DEFAULT_SIGNATURE_ALGORITHMS, XMLDSIG_ALGORITHMS } from '../../../src/xml/verify-signed.js';
import { FIXTURES, fixture, otherSpKey, signMetadata, spKey } from './sp-metadata-signing.js';

const BASE = { server: { baseUrl: 'https://sts.example.test' }, directory: { type: 'file', path: '/dev/null' } };
const configWith = (...relyingParties: Record<string, unknown>[]): Config => configSchema.parse({ ...BASE, relyingParties });

/** A logger whose lines are kept for assertions. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
  return { log: createLogger('info', stream), lines };
}

/** node-saml's metadata for an SP at this entityID and ACS (signing and encryption keys, AuthnRequestsSigned="true"). */
const nodeSamlMetadata = (entityId: string, acs: string): string => generateServiceProviderMetadata({
  issuer: entityId, callbackUrl: acs, logoutCallbackUrl: 'https://sp.example.com/logout',
  privateKey: spKey.keyPem, publicCerts: spKey.certPem, decryptionPvk: otherSpKey.keyPem, decryptionCert: otherSpKey.certPem,
  identifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
});

async function until(condition: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !condition();) {
    if (Date.now() - started > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const registries: ServiceProviderRegistry[] = [];
async function registry(config: Config, log = capturingLogger().log, now?: () => number): Promise<ServiceProviderRegistry> {
  const r = await createServiceProviderRegistry(config, log, now ? { now } : {});
  registries.push(r);
  return r;
}
afterEach(() => { registries.splice(0).forEach((r) => r.close()); });

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'fedgate-sp-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, xml: string): string => {
  const path = join(dir, name);
  writeFileSync(path, xml);
  return path;
};

describe('service provider registry: configuration and files', () => {
  it('resolves an inline-only SP with secure defaults, and logs it without certificates', async () => {
    const { log, lines } = capturingLogger();
    const r = await registry(configWith({
      protocol: 'saml', identifier: 'https://app.example.com', replyUrls: ['https://app.example.com/acs', 'https://app.example.com/acs2'],
      signingCertificates: [spKey.certPem], requireSignedRequests: true, tokenLifetime: '10m',
    }), log);
    expect(r.get('https://app.example.com')).toEqual({
      entityId: 'https://app.example.com',
      displayName: 'https://app.example.com',
      profile: 'generic',
      assertionConsumerServices: [{ url: 'https://app.example.com/acs', index: 0, isDefault: true }, { url: 'https://app.example.com/acs2', index: 1, isDefault: false }],
      singleLogout: undefined,
      signingCertificates: [spKey.certBase64],
      encryptionCertificate: undefined,
      encryptionAlgorithm: 'aes256-gcm',
      requireSignedRequests: true,
      requestSignatureAlgorithms: DEFAULT_SIGNATURE_ALGORITHMS,
      requestDigestAlgorithms: DEFAULT_DIGEST_ALGORITHMS,
      signResponse: false,
      signatureAlgorithm: 'rsa-sha256',
      nameIdFormat: 'persistent',
      allowedNameIdFormats: ['persistent', 'transient', 'emailAddress', 'unspecified'],
      nameIdClaim: undefined,
      attributes: ['upn', 'email', 'name', 'givenname', 'surname', 'groups'].map((claim) => ({ claim, name: undefined, friendlyName: undefined, nameFormat: 'uri' })),
      tokenLifetimeMs: 600_000,
      allowIdpInitiated: false,
      defaultRelayState: undefined,
      domains: [],
      issuer: 'http://sts.example.test/adfs/services/trust',
    });
    expect(r.list().map((sp) => sp.entityId)).toEqual(['https://app.example.com']);
    expect(r.get('https://other.example.com')).toBeUndefined();
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'SAML service provider loaded', entityId: 'https://app.example.com', source: 'configuration', acs: 2 }));
    expect(JSON.stringify(lines)).not.toContain(spKey.certBase64.slice(0, 40));
  });

  it('applies the entra profile: its entityID and ACS, persistent only, IDPEmail = UPN, SHA-1 requests accepted', async () => {
    const sp = (await registry(configWith({ protocol: 'saml', profile: 'entra', domains: ['contoso.com'], nameIdFormat: 'emailAddress' })))
      .get('urn:federation:MicrosoftOnline');
    expect(sp).toMatchObject({
      profile: 'entra',
      assertionConsumerServices: [{ url: 'https://login.microsoftonline.com/login.srf', index: 0, isDefault: true }],
      nameIdFormat: 'persistent',
      allowedNameIdFormats: ['persistent'],
      attributes: [{ claim: 'upn', name: 'IDPEmail', friendlyName: undefined, nameFormat: 'unspecified' }],
      requireSignedRequests: false,
      domains: [{ name: 'contoso.com', issuerUri: 'http://contoso.com/adfs/services/trust/' }],
    });
    expect(sp?.requestSignatureAlgorithms).toEqual([...DEFAULT_SIGNATURE_ALGORITHMS, XMLDSIG_ALGORITHMS.rsaSha1]);
    expect(sp?.requestDigestAlgorithms).toEqual([...DEFAULT_DIGEST_ALGORITHMS, XMLDSIG_ALGORITHMS.sha1]);
  });

  it('reads a metadata file; its values fill what the configuration leaves open', async () => {
    const metadataFile = file('node-saml.xml', nodeSamlMetadata('https://sp.example.com/metadata', 'https://sp.example.com/acs'));
    const { log, lines } = capturingLogger();
    const sp = (await registry(configWith({ protocol: 'saml', metadataFile, displayName: 'Example SP' }), log)).get('https://sp.example.com/metadata');
    expect(sp).toMatchObject({
      displayName: 'Example SP',
      assertionConsumerServices: [{ url: 'https://sp.example.com/acs', index: 1, isDefault: true }],
      singleLogout: { binding: 'post', url: 'https://sp.example.com/logout', responseUrl: 'https://sp.example.com/logout' },
      signingCertificates: [spKey.certBase64],
      encryptionCertificate: otherSpKey.certBase64,
      requireSignedRequests: true, // the metadata's AuthnRequestsSigned
      allowedNameIdFormats: ['emailAddress'],
      nameIdFormat: 'emailAddress', // persistent (the default) is not a format this SP lists
    });
    expect(lines).toContainEqual(expect.objectContaining({ entityId: 'https://sp.example.com/metadata', source: `metadataFile ${metadataFile}`, acs: 1 }));
  });

  it('lets every configured key win over the metadata', async () => {
    const metadataFile = file('node-saml.xml', nodeSamlMetadata('https://sp.example.com/metadata', 'https://sp.example.com/acs'));
    const sp = (await registry(configWith({
      protocol: 'saml', metadataFile, identifier: 'https://sp.example.com/metadata',
      replyUrls: ['https://sp.example.com/configured-acs'], singleLogoutUrl: 'https://sp.example.com/configured-slo', singleLogoutBinding: 'redirect',
      signingCertificates: [otherSpKey.certPem], encryptionCertificate: spKey.certPem, requireSignedRequests: false, signResponse: true,
    }))).get('https://sp.example.com/metadata');
    expect(sp).toMatchObject({
      assertionConsumerServices: [{ url: 'https://sp.example.com/configured-acs', index: 0, isDefault: true }],
      singleLogout: { binding: 'redirect', url: 'https://sp.example.com/configured-slo', responseUrl: 'https://sp.example.com/configured-slo' },
      signingCertificates: [otherSpKey.certBase64],
      encryptionCertificate: spKey.certBase64,
      requireSignedRequests: false,
      signResponse: true,
    });
  });

  it('refuses to start with a broken or missing metadata file, naming the entry and the file', async () => {
    const broken = file('broken.xml', fixture('minimal').replace('https://app.example.com/saml/acs', 'javascript:alert(1)'));
    const config = configWith({ protocol: 'saml', identifier: 'https://inline.example.com', replyUrls: ['https://inline.example.com/acs'] }, { protocol: 'saml', metadataFile: broken });
    await expect(createServiceProviderRegistry(config, capturingLogger().log)).rejects.toThrow(`relyingParties[1] (metadataFile ${broken}): AssertionConsumerService Location "javascript:alert(1)" is not an http(s) URL`);
    const missing = join(dir, 'missing.xml');
    await expect(createServiceProviderRegistry(configWith({ protocol: 'saml', metadataFile: missing }), capturingLogger().log)).rejects.toThrow(`relyingParties[0] (metadataFile ${missing}): ENOENT`);
    const other = configWith({ protocol: 'saml', metadataFile: join(FIXTURES, 'sp-metadata-minimal.xml'), identifier: 'https://someone-else.example.com' });
    await expect(createServiceProviderRegistry(other, capturingLogger().log)).rejects.toThrow(/not the configured identifier https:\/\/someone-else\.example\.com/);
    // Required signed requests with no certificate anywhere cannot be checked: a start-up error, not a runtime surprise.
    const unsigned = configWith({ protocol: 'saml', metadataFile: join(FIXTURES, 'sp-metadata-minimal.xml'), requireSignedRequests: true });
    await expect(createServiceProviderRegistry(unsigned, capturingLogger().log)).rejects.toThrow(/no signing certificate/);
  });

  it('picks the configured entity out of an aggregate file', async () => {
    const r = await registry(configWith({ protocol: 'saml', metadataFile: join(FIXTURES, 'sp-metadata-entities.xml'), identifier: 'https://app-b.example.com/metadata' }));
    expect(r.get('https://app-b.example.com/metadata')?.assertionConsumerServices[0]?.url).toBe('https://app-b.example.com/sso/acs');
  });

  it('refuses two SPs resolving to the same entityID', async () => {
    const config = configWith(
      { protocol: 'saml', identifier: 'https://app.example.com/saml', replyUrls: ['https://app.example.com/acs'] },
      { protocol: 'wsfed', identifier: 'urn:wsfed-app', replyUrls: ['https://wsfed.example.com/'] },
      { protocol: 'saml', metadataFile: join(FIXTURES, 'sp-metadata-minimal.xml') },
    );
    await expect(createServiceProviderRegistry(config, capturingLogger().log))
      .rejects.toThrow('relyingParties[0] and relyingParties[2] are both the SAML service provider https://app.example.com/saml');
  });

  it('stops serving metadata once its validUntil passes, and says so once', async () => {
    const metadataFile = file('valid-until.xml', fixture('minimal').replace('ID="_minimal-sp"', 'ID="_minimal-sp" validUntil="2030-01-01T00:00:00Z"'));
    let now = Date.parse('2029-12-31T23:00:00Z');
    const { log, lines } = capturingLogger();
    const r = await registry(configWith({ protocol: 'saml', metadataFile }), log, () => now);
    expect(r.get('https://app.example.com/saml')).toBeDefined();
    now = Date.parse('2030-01-01T00:00:00Z');
    expect(r.get('https://app.example.com/saml')).toBeUndefined();
    expect(r.list()).toEqual([]);
    expect(lines.filter((l) => String(l.msg).includes('expired'))).toHaveLength(1);
  });
});

describe('service provider registry: metadata URLs', () => {
  let server: Server;
  let base: string;
  let answer: (res: ServerResponse) => void;
  let requests = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => { requests++; answer(res); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => { await new Promise((r) => server.close(r)); });

  const serve = (xml: string, status = 200) => { answer = (res) => res.writeHead(status, { 'content-type': 'application/samlmetadata+xml' }).end(xml); };
  const entity = (acs: string, entityId = 'https://sp.example.com/metadata') => fixture('minimal').replace('https://app.example.com/saml/acs', acs).replace('https://app.example.com/saml', entityId);

  it('fetches at start, refreshes on schedule, keeps the last good metadata when a refresh fails or names another entity, stops on close', async () => {
    serve(entity('https://sp.example.com/acs-1'));
    const { log, lines } = capturingLogger();
    const r = await registry(configWith({ protocol: 'saml', metadataUrl: `${base}/metadata.xml?key=secret`, metadataRefresh: '50ms' }), log);
    const acs = () => r.get('https://sp.example.com/metadata')?.assertionConsumerServices[0]?.url;
    expect(acs()).toBe('https://sp.example.com/acs-1');
    expect(lines[0]).toMatchObject({ level: 'info', entityId: 'https://sp.example.com/metadata', source: `metadataUrl ${base}/metadata.xml`, acs: 1 });
    expect(JSON.stringify(lines)).not.toContain('secret');

    serve(entity('https://sp.example.com/acs-2'));
    await until(() => acs() === 'https://sp.example.com/acs-2', 'the refreshed ACS');

    serve('<html>maintenance</html>', 503);
    await until(() => lines.some((l) => l.level === 'warn' && l.err === 'HTTP 503 from the metadata URL'), 'the failed refresh warning');
    expect(acs()).toBe('https://sp.example.com/acs-2');

    serve(entity('https://evil.example.net/acs', 'https://evil.example.net/metadata'));
    await until(() => lines.some((l) => l.level === 'warn' && String(l.err).includes('now for entityID https://evil.example.net/metadata')), 'the changed-entity warning');
    expect(acs()).toBe('https://sp.example.com/acs-2');
    expect(r.get('https://evil.example.net/metadata')).toBeUndefined();

    r.close();
    const after = requests;
    await new Promise((res) => setTimeout(res, 200));
    expect(requests).toBeLessThanOrEqual(after + 1); // at most one already in flight
  });

  it('starts without an SP whose URL fails, logs an error, and adds it once a fetch succeeds', async () => {
    serve('not found', 404);
    const { log, lines } = capturingLogger();
    const r = await registry(configWith(
      { protocol: 'saml', identifier: 'https://inline.example.com', replyUrls: ['https://inline.example.com/acs'] },
      { protocol: 'saml', metadataUrl: `${base}/late.xml`, metadataRefresh: '50ms' },
    ), log);
    expect(r.list().map((sp) => sp.entityId)).toEqual(['https://inline.example.com']);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', relyingParty: 1, err: 'HTTP 404 from the metadata URL' }));
    serve(entity('https://sp.example.com/acs'));
    await until(() => r.get('https://sp.example.com/metadata') !== undefined, 'the late SP');
    expect(r.list()).toHaveLength(2);
  });

  it('refuses metadata over 1 MiB, streamed without a length or announced by Content-Length', async () => {
    const { log, lines } = capturingLogger();
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const more = () => { while (sent < 40 && res.write(chunk)) sent++; if (sent < 40 && !res.destroyed) res.once('drain', more); else res.end(); };
      res.on('error', () => undefined);
      more();
    };
    const r = await registry(configWith({ protocol: 'saml', metadataUrl: `${base}/huge.xml` }), log);
    expect(r.list()).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', err: 'the metadata is larger than 1048576 bytes' }));

    answer = (res) => res.writeHead(200, { 'content-length': String(2 * 1024 * 1024) }).end();
    const { log: log2, lines: lines2 } = capturingLogger();
    await registry(configWith({ protocol: 'saml', metadataUrl: `${base}/announced.xml` }), log2);
    expect(lines2).toContainEqual(expect.objectContaining({ level: 'error', err: 'the metadata is larger than 1048576 bytes' }));
  });

  it('checks the signature of URL metadata when a metadata signing certificate is set', async () => {
    const signed = signMetadata(entity('https://sp.example.com/acs'));
    const config = configWith({ protocol: 'saml', metadataUrl: `${base}/signed.xml`, metadataSigningCertificate: spKey.certPem });
    serve(signed);
    expect((await registry(config)).get('https://sp.example.com/metadata')).toBeDefined();
    serve(entity('https://sp.example.com/acs'));
    const { log, lines } = capturingLogger();
    expect((await registry(config, log)).list()).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', err: expect.stringMatching(/signature-missing.*metadataSigningCertificate/) }));
  });

  it('refuses a URL SP whose entityID another entry already has', async () => {
    serve(entity('https://sp.example.com/acs'));
    const config = configWith(
      { protocol: 'saml', identifier: 'https://sp.example.com/metadata', replyUrls: ['https://sp.example.com/acs'] },
      { protocol: 'saml', metadataUrl: `${base}/dup.xml` },
    );
    await expect(createServiceProviderRegistry(config, capturingLogger().log)).rejects.toThrow('relyingParties[0] and relyingParties[1] are both the SAML service provider https://sp.example.com/metadata');
  });
});
