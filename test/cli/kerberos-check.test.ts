import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKlist } from '../../src/cli/kerberos-check.js';
import { mitKdc } from '../harness/kerberos.js';
import { fedgate, tempDir, writeConfig } from './cli-fixture.js';

/**
 * `fedgate kerberos-check` against keytabs of the run's MIT KDC. The command reads no krb5.conf of
 * the tests: like the server, it uses the machine's (KRB5_CONFIG is not set for it).
 */
const kdc = mitKdc();

/** A config whose keytab is a copy (mode 0600) of `keytab`, in a folder of its own. */
function configFor(keytab: string | undefined, kerberos: Record<string, unknown> = {}, baseUrl = 'https://localhost'): { config: string; keytab: string } {
  const dir = tempDir();
  const copy = join(dir, 'http.keytab');
  if (keytab) {
    copyFileSync(keytab, copy);
    chmodSync(copy, 0o600);
  }
  const config = writeConfig(dir, {
    server: { baseUrl },
    authn: { kerberos: { keytab: copy, servicePrincipal: 'HTTP/localhost', realms: ['KRB.TEST'], ...kerberos } },
  });
  return { config, keytab: copy };
}

const check = (config: string) => fedgate('kerberos-check', '--config', config);

/** cli-fixture's fedgate() with extra node options and environment. */
function checkWith(config: string, nodeOptions: string[], env: NodeJS.ProcessEnv = {}) {
  const cli = [...nodeOptions, '--import', import.meta.resolve('tsx'), join(process.cwd(), 'test/harness/run-cli.ts')];
  return spawnSync(process.execPath, [...cli, 'kerberos-check', '--config', config], {
    encoding: 'utf8', env: { ...process.env, FEDGATE_CONFIG: '', ...env },
  });
}

describe('fedgate kerberos-check', () => {
  it('a good keytab: principal, AES keys, realm and acceptor credentials are reported, exit 0', () => {
    const { config } = configFor(kdc.keytab);
    const run = check(config);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^ok +the keytab holds HTTP\/localhost@KRB\.TEST \(kvno \d+ aes256-cts-hmac-sha1-96/m);
    expect(run.stdout).toMatch(/^ok +HTTP\/localhost@KRB\.TEST has AES keys/m);
    expect(run.stdout).toMatch(/^ok +the keytab's realm KRB\.TEST is in authn\.kerberos\.realms/m);
    expect(run.stdout).toMatch(/^ok +acceptor credentials acquired for HTTP\/localhost@KRB\.TEST \(kerberos module \d/m);
    expect(run.stdout).not.toMatch(/PROBLEM|WARNING/);
    expect(run.stdout).toMatch(/Kerberos configuration is usable\n$/);
  });

  it('a keytab without the service principal: exit 1 with setspn and ktpass', async () => {
    const other = await kdc.addService(`HTTP/other-${process.pid}.example.test`);
    const { config } = configFor(other);
    const run = check(config);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^PROBLEM the keytab has no key for servicePrincipal HTTP\/localhost; it holds: HTTP\/other-\d+\.example\.test@KRB\.TEST/m);
    expect(run.stdout).toContain('fix: register the SPN on the service account: setspn -S HTTP/localhost ');
    expect(run.stdout).toContain('ktpass /princ HTTP/localhost@KRB.TEST /mapuser ');
    expect(run.stdout).toContain('/crypto AES256-SHA1');
    // The acceptor's own error, as the server would log it.
    expect(run.stdout).toMatch(/^PROBLEM acceptor credentials for HTTP\/localhost cannot be acquired: .*No key table entry found matching HTTP\/localhost/m);
  });

  it('a missing keytab file: exit 1, with how to create one', () => {
    const { config, keytab } = configFor(undefined);
    const run = check(config);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`PROBLEM authn.kerberos.keytab: file not found: ${keytab}`);
    expect(run.stdout).toContain('ktpass /princ HTTP/<host of server.baseUrl>@<REALM>');
  });

  it('RC4-only keys: a warning that explains msDS-SupportedEncryptionTypes, exit 0', async () => {
    const host = `rc4-${process.pid}.example.test`;
    const keytab = join(tempDir(), 'rc4.keytab');
    await kdc.kadmin(`addprinc -randkey -e arcfour-hmac:normal HTTP/${host}`);
    await kdc.kadmin(`ktadd -k ${keytab} -e arcfour-hmac:normal HTTP/${host}`);
    const { config } = configFor(keytab, { servicePrincipal: `HTTP/${host}` }, `https://${host}`);
    const run = check(config);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^WARNING HTTP/${host}@KRB\\.TEST has only RC4 keys \\(DEPRECATED:arcfour-hmac\\)`, 'm'));
    expect(run.stdout).toContain("msDS-SupportedEncryptionTypes'=24");
    expect(run.stdout).toMatch(/\(1 warning\)\n$/);
  });

  it('a realm that is not accepted, a world-readable keytab, another host than server.baseUrl', () => {
    const { config, keytab } = configFor(kdc.keytab, { realms: ['EXAMPLE.COM'] }, 'https://sts.example.com');
    chmodSync(keytab, 0o644);
    const run = check(config);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^PROBLEM the keytab's realm KRB\.TEST is not in authn\.kerberos\.realms \(EXAMPLE\.COM\)/m);
    expect(run.stdout).toMatch(/^WARNING keytab .* is readable by every user/m);
    expect(run.stdout).toContain(`chmod 0600 ${keytab}`);
    expect(run.stdout).toMatch(/^WARNING servicePrincipal HTTP\/localhost is not for the host of server\.baseUrl \(sts\.example\.com\)/m);
  });

  it('a file that is no keytab, and authn.kerberos not configured: exit 1', () => {
    const { config, keytab } = configFor(undefined);
    writeFileSync(keytab, 'not a keytab\n', { mode: 0o600 });
    const run = check(config);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^PROBLEM klist cannot read .* as a keytab: .*format/m);

    const bare = check(writeConfig(tempDir()));
    expect(bare.status).toBe(1);
    expect(bare.stdout).toContain('PROBLEM authn.kerberos is not configured');
  });

  it('without klist (krb5-user) it says so and still acquires acceptor credentials', () => {
    const { config } = configFor(kdc.keytab);
    const run = checkWith(config, [], { PATH: tempDir() });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^note +klist is not installed: the principals and encryption types in the keytab are not checked\n +fix: .*apt-get install krb5-user/m);
    expect(run.stdout).toMatch(/^ok +acceptor credentials acquired for HTTP\/localhost@KRB\.TEST/m);
  });

  it('when the kerberos module cannot load, it says how to build it', () => {
    const { config } = configFor(kdc.keytab);
    // A module hook that fails the import as a missing libgssapi_krb5 would.
    const dir = tempDir();
    writeFileSync(join(dir, 'hooks.mjs'), `export async function resolve(specifier, context, next) {
      if (specifier === 'kerberos') throw new Error('libgssapi_krb5.so.2: cannot open shared object file');
      return next(specifier, context);
    }`);
    writeFileSync(join(dir, 'register.mjs'), "import { register } from 'node:module'; register('./hooks.mjs', import.meta.url);");
    const run = checkWith(config, ['--import', join(dir, 'register.mjs')]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('PROBLEM the kerberos module cannot load, so fedgate reports Kerberos unavailable: libgssapi_krb5.so.2');
    expect(run.stdout).toContain('apt-get install python3 make g++ libkrb5-dev');
    expect(run.stdout).toContain('npm rebuild kerberos');
    expect(run.stdout).toMatch(/^ok +HTTP\/localhost@KRB\.TEST has AES keys/m); // the keytab checks still ran
  });

  it('parses klist -k -t -e whatever the timestamp looks like', () => {
    expect(parseKlist([
      'Keytab name: FILE:/etc/fedgate/http.keytab',
      'KVNO Timestamp         Principal',
      '---- ----------------- --------------------------------------------------------',
      '   3 11/26/26 10:41:50 HTTP/sts.example.com@EXAMPLE.COM (aes256-cts-hmac-sha1-96) ',
      '   3 26.11.2026 10:41:50 HTTP/sts.example.com@EXAMPLE.COM (DEPRECATED:arcfour-hmac) ',
    ].join('\n'))).toEqual([
      { kvno: 3, principal: 'HTTP/sts.example.com@EXAMPLE.COM', enctype: 'aes256-cts-hmac-sha1-96' },
      { kvno: 3, principal: 'HTTP/sts.example.com@EXAMPLE.COM', enctype: 'DEPRECATED:arcfour-hmac' },
    ]);
  });
});
