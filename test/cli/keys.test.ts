import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedKeyPaths, writeGeneratedKey } from '../../src/keys/key-store.js';
import { certBase64, configWithKeyFiles, fedgate, sha1Thumbprint, tempDir, writeConfig } from './cli-fixture.js';

const DAY = 86_400_000;

function sha256Thumbprint(pemFile: string): string {
  return new X509Certificate(readFileSync(pemFile)).fingerprint256.replace(/:/g, '');
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe('fedgate keys', () => {
  it('next, show, promote: a full rollover of generated keys', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const dataDir = join(dir, 'data');
    const current = generatedKeyPaths(dataDir, 'current');
    const next = generatedKeyPaths(dataDir, 'next');

    // show only reads: without a key it says so and creates nothing.
    const empty = fedgate('keys', 'show', '--config', config);
    expect(empty.status).toBe(0);
    expect(empty.stdout).toContain('current: none yet');
    expect(existsSync(dataDir)).toBe(false);
    expect(fedgate('keys', 'next', '--config', config).status).toBe(1); // no current key to follow yet

    await writeGeneratedKey(dataDir, 'current', 'sts.contoso.com', 365 * DAY);
    const oldCurrent = certBase64(current.certFile);
    const created = fedgate('keys', 'next', '--config', config);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    expect(mode(next.keyFile)).toBe(0o600);
    const nextCert = new X509Certificate(readFileSync(next.certFile));
    expect(nextCert.subject).toBe('CN=fedgate Signing - sts.contoso.com'); // same rules as a generated key
    expect(Math.round((new Date(nextCert.validTo).getTime() - Date.now()) / DAY)).toBe(365); // signing.generatedValidity default
    const nextBase64 = certBase64(next.certFile);
    expect(created.stdout.split('\n')).toContain(nextBase64);
    for (const domain of ['contoso.com', 'fabrikam.com']) {
      expect(created.stdout).toContain(`Update-MgDomainFederationConfiguration -DomainId '${domain}' -InternalDomainFederationId $fed.Id -NextSigningCertificate '${nextBase64}'`);
    }
    expect(created.stdout).toContain(JSON.stringify({ nextSigningCertificate: nextBase64 }));
    expect(created.stdout).toContain('within seconds, no restart needed');

    // The Entra settings now carry it as nextSigningCertificate.
    const body = JSON.parse(fedgate('entra-domain', '--config', config, '--domain', 'contoso.com', '--json').stdout) as Record<string, unknown>;
    expect(body.nextSigningCertificate).toBe(nextBase64);

    const again = fedgate('keys', 'next', '--config', config);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('a next key already exists');
    expect(certBase64(next.certFile)).toBe(nextBase64); // untouched

    const shown = fedgate('keys', 'show', '--config', config);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain(`current ${current.certFile}`);
    expect(shown.stdout).toContain(`next ${next.certFile}`);
    for (const file of [current.certFile, next.certFile]) {
      expect(shown.stdout).toContain(`thumbprint SHA-1   ${sha1Thumbprint(file)}`);
      expect(shown.stdout).toContain(`thumbprint SHA-256 ${sha256Thumbprint(file)}`);
    }
    expect(shown.stdout).toContain(`notAfter           ${new Date(nextCert.validTo).toISOString()}`);
    expect(shown.stdout).toMatch(/days left {10}36[45]/);
    expect(shown.stdout).not.toContain('WARNING');

    const promoted = fedgate('keys', 'promote', '--config', config);
    expect(promoted.stderr).toBe('');
    expect(promoted.status).toBe(0);
    expect(certBase64(current.certFile)).toBe(nextBase64);
    expect(certBase64(join(current.dir, 'previous-cert.pem'))).toBe(oldCurrent);
    expect(mode(current.keyFile)).toBe(0o600);
    expect(mode(join(current.dir, 'previous-key.pem'))).toBe(0o600);
    expect(readdirSync(current.dir).sort()).toEqual(['current-cert.pem', 'current-key.pem', 'previous-cert.pem', 'previous-key.pem']);
    expect(promoted.stdout).toContain(`-SigningCertificate '${nextBase64}'`);

    const twice = fedgate('keys', 'promote', '--config', config);
    expect(twice.status).toBe(1);
    expect(twice.stderr).toContain('there is no next key');
    const after = JSON.parse(fedgate('entra-domain', '--config', config, '--domain', 'contoso.com', '--json').stdout) as Record<string, unknown>;
    expect(after.signingCertificate).toBe(nextBase64); // the server (same key store) now signs with it
    expect(after).not.toHaveProperty('nextSigningCertificate');
  }, 60_000); // eight process starts

  it('show warns when a certificate has less than 30 days left', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { signing: { generatedValidity: '20d' } });
    await writeGeneratedKey(join(dir, 'data'), 'current', 'sts.contoso.com', 12 * DAY);
    const shown = fedgate('keys', 'show', '--config', config);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/^WARNING: the current certificate expires in 1[12] days: create the next one now/m);
    expect(fedgate('keys', 'next', '--config', config).status).toBe(0);
    const withNext = fedgate('keys', 'show', '--config', config);
    expect(withNext.stdout).toMatch(/^WARNING: the current certificate expires in 1[12] days: promote the next one/m);
    expect(withNext.stdout).toMatch(/^WARNING: the next certificate expires in (19|20) days/m);
  });

  it('refuses to write keys that come from configured files, and names what to configure instead', async () => {
    const { dir, config, certFile } = await configWithKeyFiles(365);
    const next = fedgate('keys', 'next', '--config', config);
    expect(next.status).toBe(1);
    expect(next.stderr).toContain('configure them as signing.next');
    const promote = fedgate('keys', 'promote', '--config', config);
    expect(promote.status).toBe(1);
    expect(promote.stderr).toContain('signing.keyFile');
    expect(existsSync(join(dir, 'data'))).toBe(false);
    const shown = fedgate('keys', 'show', '--config', config);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain(`current ${certFile}`);
    expect(shown.stdout).toContain('next: none (configure signing.next)');
  });

  it('usage errors exit 2', () => {
    const config = writeConfig(tempDir());
    expect(fedgate('keys', '--config', config).status).toBe(2);
    expect(fedgate('keys', 'rotate', '--config', config).status).toBe(2);
    expect(fedgate('keys', 'show').status).toBe(2); // no --config
    const unknown = fedgate('keys', 'show', '--config', config, '--force');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('usage: fedgate keys');
  });
});
