import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdpError } from '../../src/core/errors.js';
import { createLdapDirectory } from '../../src/directory/ldap/ldap-directory.js';
import { slapdDirectoryConfig, testLogger } from '../harness/directories.js';
import { recordingProxy } from '../harness/tcp.js';
import { EXPECTED_IMMUTABLE_ID, USERS } from '../harness/users.js';
import { inject } from 'vitest';

/** LDAPS and StartTLS against slapd, certificates verified against the configured CA. */
const { alice } = USERS;
let tmp: string;
let otherCa: string;

beforeAll(() => {
  tmp = mkdtempSync(join(os.tmpdir(), 'fedgate-tls-'));
  otherCa = join(tmp, 'other-ca.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(tmp, 'other-key.pem'), '-out', otherCa], { stdio: 'ignore' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function signInWith(overrides: Parameters<typeof slapdDirectoryConfig>[0]) {
  const directory = createLdapDirectory(slapdDirectoryConfig({ connectTimeout: '2s', operationTimeout: '3s', ...overrides }), testLogger());
  try {
    return await directory.authenticate(alice.upn, alice.password);
  } finally {
    await directory.close();
  }
}

describe('directory over TLS (slapd)', () => {
  it('signs in over ldaps:// with the CA file', async () => {
    const slapd = inject('slapd');
    const result = await signInWith({ urls: [slapd.ldapsUrl], tls: { ca: slapd.caFile } });
    expect(result.outcome).toBe('success');
    expect(result.user?.immutableId).toBe(EXPECTED_IMMUTABLE_ID.alice);
  });

  it('signs in over StartTLS with the CA file, and the password never crosses the wire in clear text', async () => {
    const slapd = inject('slapd');
    const proxy = await recordingProxy(slapd.port);
    try {
      const result = await signInWith({ urls: [proxy.url], tls: { ca: slapd.caFile, startTls: true } });
      expect(result.outcome).toBe('success');
      expect(proxy.clientBytes().length).toBeGreaterThan(0);
      expect(proxy.clientBytes().includes(Buffer.from(alice.password))).toBe(false);
      expect(proxy.clientBytes().includes(Buffer.from(slapd.adminPassword))).toBe(false);
    } finally {
      await proxy.close();
    }
  });

  it('(control) over plain ldap:// the same proxy does see the password', async () => {
    const slapd = inject('slapd');
    const proxy = await recordingProxy(slapd.port);
    try {
      expect((await signInWith({ urls: [proxy.url] })).outcome).toBe('success');
      expect(proxy.clientBytes().includes(Buffer.from(alice.password))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('(timing) an unknown user costs a bind like a known one: the password goes to the server either way', async () => {
    const slapd = inject('slapd');
    const proxy = await recordingProxy(slapd.port);
    try {
      const directory = createLdapDirectory(slapdDirectoryConfig({ urls: [proxy.url] }), testLogger());
      expect(await directory.authenticate('nobody@example.test', 'Unknown!Passw0rd')).toMatchObject({ outcome: 'invalid-credentials' });
      await directory.close();
      expect(proxy.clientBytes().includes(Buffer.from('Unknown!Passw0rd'))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it.each([
    ['ldaps', (s: { ldapsUrl: string }) => ({ urls: [s.ldapsUrl] })],
    ['StartTLS', () => ({ tls: { startTls: true } })],
  ])('refuses a certificate from another CA over %s: unavailable, not a wrong password', async (_how, urls) => {
    const slapd = inject('slapd');
    const base = urls(slapd);
    await expect(signInWith({ ...base, tls: { ...('tls' in base ? base.tls : {}), ca: otherCa } }))
      .rejects.toMatchObject({ name: 'DirectoryUnavailableError', detail: expect.stringMatching(/certificate/i) });
    // Without any CA file the self-signed certificate is not trusted either.
    await expect(signInWith(base)).rejects.toMatchObject({ name: 'DirectoryUnavailableError' });
  });

  it('skips verification only when rejectUnauthorized is turned off (labs)', async () => {
    const slapd = inject('slapd');
    const result = await signInWith({ urls: [slapd.ldapsUrl], tls: { ca: otherCa, rejectUnauthorized: false } });
    expect(result.outcome).toBe('success');
  });

  it('reports a CA file that cannot be read as a configuration error at start', () => {
    expect(() => createLdapDirectory(slapdDirectoryConfig({ tls: { ca: join(tmp, 'missing.pem') } }), testLogger()))
      .toThrow(IdpError);
  });
});
