import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, X509Certificate, type JsonWebKey } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { IdpError } from '../../src/core/errors.js';
import { generateSigningCertificate } from '../../src/keys/generate-certificate.js';
import { ecKeyPath, jwkThumbprint, loadEcSigningKey } from '../../src/keys/ec-key.js';
import { daysUntilExpiry, generatedKeyPaths, loadKeyStore, parseSigningKey, signingJwks, writeGeneratedKey } from '../../src/keys/key-store.js';
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

/** The public members of a private JWK: what a relying party reads from jwks_uri. */
function publicPart(jwk: JsonWebKey): JsonWebKey {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = jwk;
  return rest;
}

describe('EC signing key (ES256 ID tokens)', () => {
  it('keys: the EC key is generated once under dataDir/signing/ec-key.pem, mode 0600, at its first read, and reused', async () => {
    const dataDir = join(dir, 'ec');
    const keys = await loadKeyStore(configFor(dataDir), capturingLogger().log);
    // Not at start-up: read-only CLI commands load the key store and must not create it.
    expect(existsSync(ecKeyPath(dataDir))).toBe(false);
    const ec = keys.ec;
    expect(keys.ec).toBe(ec);
    expect(statSync(ecKeyPath(dataDir)).mode & 0o777).toBe(0o600);
    expect(ec.privateKey.type).toBe('private');
    expect(ec.privateKey.asymmetricKeyType).toBe('ec');
    expect(ec.privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const pem = readFileSync(ecKeyPath(dataDir), 'utf8');

    const again = await loadKeyStore(configFor(dataDir), capturingLogger().log);
    expect(again.ec.privateKey.equals(ec.privateKey)).toBe(true);
    expect(again.ec.kid).toBe(ec.kid);
    expect(readFileSync(ecKeyPath(dataDir), 'utf8')).toBe(pem);
    expect(loadEcSigningKey(join(dir, 'ec-other')).kid).not.toBe(ec.kid);
  });

  it('keys: with configured RSA files the EC key still lives under dataDir, and nothing else is generated', async () => {
    const dataDir = join(dir, 'ec-configured');
    const keys = await loadKeyStore(configFor(dataDir, { signing: writePair('ec-conf', pairA) }), capturingLogger().log);
    expect(keys.ec.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(existsSync(ecKeyPath(dataDir))).toBe(true);
    expect(existsSync(generatedKeyPaths(dataDir, 'current').keyFile)).toBe(false);
  });

  it('keys: the kid is the RFC 7638 thumbprint (the RFC\'s own example) and matches the key', () => {
    // RFC 7638 §3.1.
    const n = '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    expect(jwkThumbprint(createPublicKey({ key: { kty: 'RSA', n, e: 'AQAB' }, format: 'jwk' }))).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    // Private and public halves share one thumbprint; so the published key carries the signer's kid.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(jwkThumbprint(privateKey)).toBe(jwkThumbprint(publicKey));
  });

  it('keys: an ec-key.pem that is not P-256 is refused', () => {
    const dataDir = join(dir, 'ec-p384');
    mkdirSync(join(dataDir, 'signing'), { recursive: true });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    writeFileSync(ecKeyPath(dataDir), privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    expect(() => loadEcSigningKey(dataDir)).toThrow(IdpError);
    expect(() => loadEcSigningKey(dataDir)).toThrow(/must be EC P-256/);
  });

  it('keys: signingJwks has RSA current, RSA next and EC, private, each with alg, use sig and its thumbprint kid', async () => {
    const keys = await loadKeyStore(configFor(join(dir, 'jwks'), { signing: { ...writePair('jwks-cur', pairA), next: writePair('jwks-nxt', pairB) } }), capturingLogger().log);
    const { keys: jwks } = signingJwks(keys);
    expect(jwks.map((k) => [k.kty, k.crv, k.alg, k.use])).toEqual([
      ['RSA', undefined, 'RS256', 'sig'],
      ['RSA', undefined, 'RS256', 'sig'],
      ['EC', 'P-256', 'ES256', 'sig'],
    ]);
    const [current, next, ec] = jwks as [JsonWebKey, JsonWebKey, JsonWebKey];
    for (const jwk of [current, next]) for (const member of ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi']) expect(typeof jwk[member]).toBe('string');
    for (const member of ['x', 'y', 'd']) expect(typeof ec[member]).toBe('string');
    expect(current.kid).toBe(jwkThumbprint(keys.current.privateKey));
    expect(next.kid).toBe(jwkThumbprint(keys.next!.privateKey));
    expect(ec.kid).toBe(keys.ec.kid);
    expect(new Set(jwks.map((k) => k.kid)).size).toBe(3);
    // The JWKs are the store's keys, not copies of something else.
    expect(createPrivateKey({ key: current, format: 'jwk' }).equals(keys.current.privateKey)).toBe(true);
    expect(createPrivateKey({ key: ec, format: 'jwk' }).equals(keys.ec.privateKey)).toBe(true);

    const withoutNext = signingJwks(await loadKeyStore(configFor(join(dir, 'jwks-single')), capturingLogger().log)).keys;
    expect(withoutNext.map((k) => k.alg)).toEqual(['RS256', 'ES256']);
  });

  it('keys: a signature made with a JWK-imported private key verifies with the public JWK, and not when tampered', async () => {
    const keys = await loadKeyStore(configFor(join(dir, 'jwks-sign')), capturingLogger().log);
    const [rsa, ec] = signingJwks(keys).keys as [JsonWebKey, JsonWebKey];
    const data = Buffer.from('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9');
    const tampered = Buffer.from('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0');

    // ES256 signatures are r||s (IEEE P1363), as in a JWS.
    const ecSignature = sign('sha256', data, { key: createPrivateKey({ key: ec, format: 'jwk' }), dsaEncoding: 'ieee-p1363' });
    expect(ecSignature).toHaveLength(64);
    const ecPublic = { key: createPublicKey({ key: publicPart(ec), format: 'jwk' }), dsaEncoding: 'ieee-p1363' } as const;
    expect(verify('sha256', data, ecPublic, ecSignature)).toBe(true);
    expect(verify('sha256', tampered, ecPublic, ecSignature)).toBe(false);

    const rsaSignature = sign('sha256', data, createPrivateKey({ key: rsa, format: 'jwk' }));
    expect(verify('sha256', data, createPublicKey({ key: publicPart(rsa), format: 'jwk' }), rsaSignature)).toBe(true);
    expect(verify('sha256', data, keys.current.certificate.publicKey, rsaSignature)).toBe(true);
    expect(verify('sha256', tampered, createPublicKey({ key: publicPart(rsa), format: 'jwk' }), rsaSignature)).toBe(false);
  });
});
