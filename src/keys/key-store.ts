import { createPrivateKey, createPublicKey, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { IdpError } from '../core/errors.js';
import { jwkThumbprint, loadEcSigningKey, type EcSigningKey } from './ec-key.js';
import { generateSigningCertificate } from './generate-certificate.js';

/** A token-signing key, parsed once at start-up (a PEM per signature costs 3x: performance.md). */
export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly certificate: X509Certificate;
  /** Base64 of the DER certificate: KeyInfo, metadata and Entra's signingCertificate. */
  readonly certificateBase64: string;
  readonly notAfter: Date;
  readonly source: string;
}

/**
 * THE key store: the current signing key and, during a rollover, the next one. They change only
 * through reload (key-watch.ts calls it when the files change: another node's `fedgate keys
 * promote`), which replaces both at once; read them when signing, never keep them.
 */
export interface KeyStore {
  readonly current: SigningKey;
  readonly next: SigningKey | undefined;
  /** Grows by one at each reload that changed the keys: what was built from them (signed metadata) is rebuilt. */
  readonly generation: number;
  /**
   * Reads the key files again, never generating one. True when the keys changed; throws (keeping
   * the keys in use) when a file is missing, half-written or does not match its pair.
   */
  reload(): boolean;
  /**
   * The ES256 ID-token key under dataDir/signing/ec-key.pem, generated at first read. Lazy so that
   * only OpenID Connect makes it: the CLI's read-only commands (keys, entra-domain, often run as
   * root) must not leave a root-owned key behind, and configured RSA files mean nothing is
   * generated until OpenID Connect asks.
   */
  readonly ec: EcSigningKey;
}

export function parseSigningKey(keyPem: string, certPem: string, source: string): SigningKey {
  const privateKey = createPrivateKey(keyPem);
  const certificate = new X509Certificate(certPem);
  const publicFromKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicFromCert = certificate.publicKey.export({ format: 'der', type: 'spki' });
  if (!publicFromKey.equals(publicFromCert)) {
    throw new IdpError('configuration', 'The signing key does not match its certificate.', `${source}: key and certificate differ`);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new IdpError('configuration', 'The signing key must be RSA.', `${source}: ${privateKey.asymmetricKeyType}`);
  }
  return { privateKey, certificate, certificateBase64: certificate.raw.toString('base64'), notAfter: new Date(certificate.validTo), source };
}

function loadPair(keyFile: string, certFile: string): SigningKey {
  return parseSigningKey(readFileSync(keyFile, 'utf8'), readFileSync(certFile, 'utf8'), certFile);
}

/** Where generated keys live: dataDir/signing/{current,next}-{key,cert}.pem, keys mode 0600. */
export function generatedKeyPaths(dataDir: string, slot: 'current' | 'next') {
  const dir = join(dataDir, 'signing');
  return { dir, keyFile: join(dir, `${slot}-key.pem`), certFile: join(dir, `${slot}-cert.pem`) };
}

export async function writeGeneratedKey(dataDir: string, slot: 'current' | 'next', host: string, validityMs: number): Promise<void> {
  const paths = generatedKeyPaths(dataDir, slot);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const { keyPem, certPem } = await generateSigningCertificate(host, validityMs);
  writeFileSync(paths.keyFile, keyPem, { mode: 0o600 });
  chmodSync(paths.keyFile, 0o600);
  writeFileSync(paths.certFile, certPem, { mode: 0o644 });
}

export async function loadKeyStore(config: Config, log: Logger): Promise<KeyStore> {
  if (!config.signing.keyFile || !config.signing.certFile) {
    const paths = generatedKeyPaths(config.dataDir, 'current');
    if (!existsSync(paths.keyFile) || !existsSync(paths.certFile)) {
      const host = new URL(config.server.baseUrl).hostname;
      await writeGeneratedKey(config.dataDir, 'current', host, config.signing.generatedValidity);
      log.warn({ certFile: paths.certFile }, 'generated a self-signed token-signing certificate');
    }
  }
  let keys = readKeySet(config);
  let generation = 0;
  let ec: EcSigningKey | undefined;
  return {
    get current() {
      return keys.current;
    },
    get next() {
      return keys.next;
    },
    get generation() {
      return generation;
    },
    reload() {
      const read = readKeySet(config);
      const current = sameKey(read.current, keys.current) ? keys.current : read.current;
      const next = sameKey(read.next, keys.next) ? keys.next : read.next;
      if (current === keys.current && next === keys.next) return false;
      keys = { current, next };
      generation += 1;
      return true;
    },
    get ec() {
      ec ??= loadEcSigningKey(config.dataDir);
      return ec;
    },
  };
}

/** The key files the store reads: configured, or generated under dataDir (next only while it exists). */
export function keyFilePaths(config: Config): { current: KeyPair; next: KeyPair | undefined } {
  if (config.signing.keyFile && config.signing.certFile) {
    return { current: { keyFile: config.signing.keyFile, certFile: config.signing.certFile }, next: config.signing.next };
  }
  return { current: generatedKeyPaths(config.dataDir, 'current'), next: config.signing.next ?? generatedKeyPaths(config.dataDir, 'next') };
}

interface KeyPair {
  readonly keyFile: string;
  readonly certFile: string;
}

function readKeySet(config: Config): { current: SigningKey; next: SigningKey | undefined } {
  const paths = keyFilePaths(config);
  const current = loadPair(paths.current.keyFile, paths.current.certFile);
  // A generated next key exists only between `fedgate keys next` and `promote`.
  const optional = !config.signing.next;
  const next = paths.next && (!optional || (existsSync(paths.next.keyFile) && existsSync(paths.next.certFile)))
    ? loadPair(paths.next.keyFile, paths.next.certFile) : undefined;
  return { current, next };
}

const sameKey = (a: SigningKey | undefined, b: SigningKey | undefined) =>
  a === b || (a !== undefined && b !== undefined && a.certificate.raw.equals(b.certificate.raw) && a.privateKey.equals(b.privateKey));

/**
 * The private JWKs for oidc-provider's `jwks` option: RSA current first (oidc-provider signs with
 * the first key of an algorithm), then RSA next (published so relying parties already trust it at
 * the rollover), then EC for ES256. Each kid is its RFC 7638 thumbprint, so it is stable and
 * different keys never share one.
 */
export function signingJwks(keys: KeyStore): { keys: JsonWebKey[] } {
  const jwk = (privateKey: KeyObject, alg: 'RS256' | 'ES256', kid: string): JsonWebKey => ({ ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' });
  const rsa = [keys.current, ...(keys.next ? [keys.next] : [])].map((key) => jwk(key.privateKey, 'RS256', jwkThumbprint(key.privateKey)));
  return { keys: [...rsa, jwk(keys.ec.privateKey, 'ES256', keys.ec.kid)] };
}

/**
 * Certificates this close to expiry are warned about (log, /readyz, the CLI): Entra's automatic
 * rollover reads the next certificate from the metadata from 35 days out (§5.3).
 */
export const EXPIRY_WARNING_DAYS = 35;

/** Days until the certificate expires (negative once expired). */
export function daysUntilExpiry(key: SigningKey, now: number = Date.now()): number {
  return (key.notAfter.getTime() - now) / 86_400_000;
}
