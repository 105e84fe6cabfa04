import { createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { IdpError } from '../../src/core/errors.js';
import { generateSigningCertificate } from '../../src/keys/generate-certificate.js';
import { daysUntilExpiry, generatedKeyPaths, loadKeyStore, parseSigningKey, writeGeneratedKey } from '../../src/keys/key-store.js';
import { createLogger } from '../../src/observability/logger.js';

const DAY = 86_400_000;
let dir: string;
/** Two independent key pairs, generated once for the file-based tests. */
let pairA: { keyPem: string; certPem: string };
let pairB: { keyPem: string; certPem: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fedgate-keys-'));
  writeFileSync(join(dir, 'users.yaml'), 'users: []\n');
  [pairA, pairB] = await Promise.all([generateSigningCertificate('a.example.com', 30 * DAY), generateSigningCertificate('b.example.com', 30 * DAY)]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFor(dataDir: string, extra: Record<string, unknown> = {}): Config {
  return parseConfig(
    { server: { baseUrl: 'https://login.example.org:8443/fedgate' }, dataDir, directory: { type: 'file', path: 'users.yaml' }, ...extra },
    'test', dir, {},
  );
}

/** A logger whose lines are kept for assertions. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
  return { log: createLogger('info', stream), lines };
}

function writePair(name: string, pair: { keyPem: string; certPem: string }) {
  const keyFile = join(dir, `${name}-key.pem`);
  const certFile = join(dir, `${name}-cert.pem`);
  writeFileSync(keyFile, pair.keyPem);
  writeFileSync(certFile, pair.certPem);
  return { keyFile, certFile };
}

describe('key store', () => {
  it('keys: a missing key is generated under dataDir/signing as a self-signed RSA-2048 certificate, key mode 0600', async () => {
    const dataDir = join(dir, 'gen');
    const { log, lines } = capturingLogger();
    const keys = await loadKeyStore(configFor(dataDir, { signing: { generatedValidity: '90d' } }), log);
    const paths = generatedKeyPaths(dataDir, 'current');
    expect(statSync(paths.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(paths.dir).mode & 0o777).toBe(0o700);
    const cert = keys.current.certificate;
    expect(cert.subject).toBe('CN=fedgate Signing - login.example.org');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime()).toBe(90 * DAY);
    expect(new Date(cert.validFrom).getTime()).toBeLessThanOrEqual(Date.now());
    expect(keys.current.notAfter.getTime()).toBe(new Date(cert.validTo).getTime());
    expect(keys.current.certificateBase64).toBe(cert.raw.toString('base64'));
    expect(keys.next).toBeUndefined();
    expect(lines.some((l) => l.level === 'warn' && /generated a self-signed/.test(String(l.msg)))).toBe(true);
  });

  it('keys: the generated key is reused on the next start', async () => {
    const dataDir = join(dir, 'reuse');
    const first = await loadKeyStore(configFor(dataDir), capturingLogger().log);
    const { log, lines } = capturingLogger();
    const second = await loadKeyStore(configFor(dataDir), log);
    expect(second.current.certificateBase64).toBe(first.current.certificateBase64);
    expect(second.current.privateKey.equals(first.current.privateKey)).toBe(true);
    expect(lines.some((l) => l.level === 'warn')).toBe(false);
  });

  it('keys: a signature made with the private key verifies with the certificate public key', async () => {
    const keys = await loadKeyStore(configFor(join(dir, 'sign')), capturingLogger().log);
    const data = Buffer.from('<ds:SignedInfo>…</ds:SignedInfo>');
    const signature = sign('sha256', data, keys.current.privateKey);
    expect(verify('sha256', data, keys.current.certificate.publicKey, signature)).toBe(true);
    const fromBase64 = new X509Certificate(Buffer.from(keys.current.certificateBase64, 'base64'));
    expect(verify('sha256', data, fromBase64.publicKey, signature)).toBe(true);
    expect(verify('sha256', Buffer.from('<ds:SignedInfo>tampered</ds:SignedInfo>'), keys.current.certificate.publicKey, signature)).toBe(false);
  });

  it('keys: configured PEM files are loaded and nothing is generated', async () => {
    const dataDir = join(dir, 'configured');
    const files = writePair('a', pairA);
    const keys = await loadKeyStore(configFor(dataDir, { signing: files }), capturingLogger().log);
    expect(keys.current.certificate.raw.equals(new X509Certificate(pairA.certPem).raw)).toBe(true);
    expect(keys.current.source).toBe(files.certFile);
    expect(() => statSync(join(dataDir, 'signing'))).toThrow();
    const signature = sign('sha256', Buffer.from('x'), keys.current.privateKey);
    expect(verify('sha256', Buffer.from('x'), createPublicKey(pairA.certPem), signature)).toBe(true);
  });

  it('keys: a key that does not match its certificate is refused', async () => {
    const files = { keyFile: writePair('mix-a', pairA).keyFile, certFile: writePair('mix-b', pairB).certFile };
    const attempt = loadKeyStore(configFor(join(dir, 'mismatch'), { signing: files }), capturingLogger().log);
    await expect(attempt).rejects.toBeInstanceOf(IdpError);
    await expect(attempt).rejects.toMatchObject({ code: 'configuration', message: 'The signing key does not match its certificate.' });
    expect(() => parseSigningKey(pairB.keyPem, pairA.certPem, 'inline')).toThrow(/does not match/);
  });

  it('keys: the configured next key is loaded for rollover', async () => {
    const keys = await loadKeyStore(configFor(join(dir, 'next'), { signing: { ...writePair('cur', pairA), next: writePair('nxt', pairB) } }), capturingLogger().log);
    expect(keys.current.certificate.subject).toBe('CN=fedgate Signing - a.example.com');
    expect(keys.next?.certificate.subject).toBe('CN=fedgate Signing - b.example.com');
    const signature = sign('sha256', Buffer.from('x'), keys.next!.privateKey);
    expect(verify('sha256', Buffer.from('x'), keys.next!.certificate.publicKey, signature)).toBe(true);
  });

  it('keys: a generated next key under dataDir is picked up alongside the generated current key', async () => {
    const dataDir = join(dir, 'gen-next');
    await writeGeneratedKey(dataDir, 'next', 'login.example.org', 60 * DAY);
    const keys = await loadKeyStore(configFor(dataDir), capturingLogger().log);
    expect(keys.next).toBeDefined();
    expect(keys.next!.certificateBase64).not.toBe(keys.current.certificateBase64);
    expect(keys.next!.certificate.raw.equals(new X509Certificate(readFileSync(generatedKeyPaths(dataDir, 'next').certFile)).raw)).toBe(true);
    expect(statSync(generatedKeyPaths(dataDir, 'next').keyFile).mode & 0o777).toBe(0o600);
  });

  it('keys: daysUntilExpiry counts down to notAfter and goes negative after it', () => {
    const key = parseSigningKey(pairA.keyPem, pairA.certPem, 'inline');
    const notAfter = key.notAfter.getTime();
    expect(daysUntilExpiry(key, notAfter - 10 * DAY)).toBe(10);
    expect(daysUntilExpiry(key, notAfter)).toBe(0);
    expect(daysUntilExpiry(key, notAfter + DAY / 2)).toBe(-0.5);
    expect(daysUntilExpiry(key)).toBeGreaterThan(29.9);
    expect(daysUntilExpiry(key)).toBeLessThanOrEqual(30);
  });
});
