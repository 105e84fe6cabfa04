import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IdpError } from '../core/errors.js';

/** The EC P-256 key that signs ES256 ID tokens, beside the RSA keys that sign everything else. */
export interface EcSigningKey {
  readonly privateKey: KeyObject;
  /** RFC 7638 thumbprint: stable across restarts, so relying parties' cached JWKS keep matching. */
  readonly kid: string;
}

/** dataDir/signing/ec-key.pem, beside the generated RSA keys. */
export function ecKeyPath(dataDir: string): string {
  return join(dataDir, 'signing', 'ec-key.pem');
}

/** The members RFC 7638 §3.2 hashes, per key type, already in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = { RSA: ['e', 'kty', 'n'], EC: ['crv', 'kty', 'x', 'y'] };

/**
 * RFC 7638 JWK thumbprint (SHA-256, base64url) of a key's public part. Written over node:crypto
 * rather than imported from jose: jose is only oidc-provider's dependency, not fedgate's.
 */
export function jwkThumbprint(key: KeyObject): string {
  // Only the public members count; Node refuses createPublicKey of a key that already is public.
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  const members = jwk.kty ? THUMBPRINT_MEMBERS[jwk.kty] : undefined;
  if (!members) throw new IdpError('configuration', 'The signing key type is not supported.', `thumbprint of kty ${String(jwk.kty)}`);
  // JSON.stringify of string members is exactly RFC 7638's canonical form (no whitespace, sorted).
  const canonical = JSON.stringify(Object.fromEntries(members.map((name) => [name, jwk[name]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * Creates the file only if it is absent, atomically: written under a private temporary name,
 * then hard-linked into place (link fails when the target exists). Two instances starting together
 * on one dataDir thus agree on one key and neither ever reads a half-written file.
 */
function createExclusive(file: string, content: string): void {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temp, content, { mode: 0o600, flag: 'wx' });
  // The umask may have narrowed the mode further, never widened it; set it exactly as documented.
  chmodSync(temp, 0o600);
  try {
    linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(temp);
  }
}

/**
 * Loads the EC signing key, generating it (mode 0600) on first use. Parsed once here: a PEM
 * parse per signature would cost more than the signature (performance.md).
 */
export function loadEcSigningKey(dataDir: string): EcSigningKey {
  const file = ecKeyPath(dataDir);
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(join(dataDir, 'signing'), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    createExclusive(file, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    // Read back rather than use the generated key: another instance may have won the race.
    pem = readFileSync(file, 'utf8');
  }
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new IdpError('configuration', 'The ES256 signing key must be EC P-256.', `${file}: ${privateKey.asymmetricKeyType} ${privateKey.asymmetricKeyDetails?.namedCurve ?? ''}`);
  }
  return { privateKey, kid: jwkThumbprint(privateKey) };
}
