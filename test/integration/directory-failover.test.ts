import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLdapDirectory, type LdapDirectory } from '../../src/directory/ldap/ldap-directory.js';
import { slapdDirectoryConfig, startExtraSlapd, testLogger, type ExtraSlapd } from '../harness/directories.js';
import { cuttingProxy, listen, listenAndDrop, listenAndHang, type Listener } from '../harness/tcp.js';
import { USERS } from '../harness/users.js';

/** Several directory URLs: failover on faults only, dead servers remembered. */
const { alice, bob } = USERS;

describe('directory failover between two slapd servers', () => {
  let first: ExtraSlapd;
  let second: ExtraSlapd;
  let directory: LdapDirectory;

  beforeAll(async () => {
    [first, second] = await Promise.all([startExtraSlapd(), startExtraSlapd({ port: 21470, tlsPort: 21720 })]);
    directory = createLdapDirectory(slapdDirectoryConfig({
      urls: [first.url, second.url], deadServerRetry: '60s', operationTimeout: '2s', connectTimeout: '1s',
    }, first), testLogger());
  });
  afterAll(async () => {
    await directory?.close();
    await Promise.all([first?.stop(), second?.stop()]);
  });

  it('uses the first server while it answers', async () => {
    expect((await directory.authenticate(alice.upn, alice.password)).outcome).toBe('success');
    expect(directory.deadServers()).toEqual([]);
  });

  it('does not fail over because of invalid credentials', async () => {
    expect(await directory.authenticate(alice.upn, 'Wrong!Passw0rd')).toMatchObject({ outcome: 'invalid-credentials' });
    expect(await directory.authenticate('nobody', 'Wrong!Passw0rd')).toMatchObject({ outcome: 'invalid-credentials' });
    expect(directory.deadServers()).toEqual([]);
  });

  it('keeps signing people in through the second server when the first stops mid-test', async () => {
    const outcomes: string[] = [];
    let stopping = false;
    const worker = async () => {
      const until = Date.now() + 2500;
      while (Date.now() < until) {
        const user = outcomes.length % 2 ? alice : bob;
        outcomes.push((await directory.authenticate(user.upn, user.password)).outcome);
        if (!stopping && outcomes.length > 20) {
          stopping = true;
          void first.stop();
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(stopping).toBe(true);
    expect(outcomes.length).toBeGreaterThan(40);
    expect(new Set(outcomes)).toEqual(new Set(['success']));
    expect(directory.deadServers()).toEqual([first.url]);
  });

  it('remembers the dead server: nothing tries it again within deadServerRetry', async () => {
    // Something answers TCP on the dead server's port again; it must not see a single connection.
    const trap = await listen((socket) => socket.destroy(), first.port, first.port);
    try {
      for (let i = 0; i < 10; i++) expect((await directory.authenticate(alice.upn, alice.password)).outcome).toBe('success');
      expect(await directory.findUser(bob.upn)).toBeDefined();
      expect(trap.connections()).toBe(0);
    } finally {
      await trap.close();
    }
  });
});

describe('directory failover on faults', () => {
  const traps: Listener[] = [];
  const directories: LdapDirectory[] = [];
  const make = (overrides: Parameters<typeof slapdDirectoryConfig>[0]) => {
    const d = createLdapDirectory(slapdDirectoryConfig({ connectTimeout: '500ms', operationTimeout: '700ms', ...overrides }), testLogger());
    directories.push(d);
    return d;
  };
  const trap = async (make: () => Promise<Listener>) => {
    const t = await make();
    traps.push(t);
    return t;
  };
  afterAll(async () => {
    await Promise.all(directories.map((d) => d.close()));
    await Promise.all(traps.map((t) => t.close()));
  });
  const slapdUrl = () => slapdDirectoryConfig().urls[0]!;

  it('a wrong password never reaches the next server', async () => {
    const next = await trap(listenAndDrop);
    const directory = make({ urls: [slapdUrl(), next.url] });
    expect(await directory.authenticate(alice.upn, 'Wrong!Passw0rd')).toMatchObject({ outcome: 'invalid-credentials' });
    expect(await directory.authenticate(`nobody@example.test`, 'Wrong!Passw0rd')).toMatchObject({ outcome: 'invalid-credentials' });
    expect(await directory.authenticate(USERS.carol.upn, USERS.carol.password)).toMatchObject({ outcome: 'disabled' });
    expect(next.connections()).toBe(0);
  });

  it('fails over from a server that drops connections, and retries it after deadServerRetry', async () => {
    const broken = await trap(listenAndDrop);
    const directory = make({ urls: [broken.url, slapdUrl()], deadServerRetry: '300ms' });
    expect((await directory.authenticate(alice.upn, alice.password)).outcome).toBe('success');
    expect(directory.deadServers()).toEqual([broken.url]);
    const tried = broken.connections();
    expect((await directory.authenticate(alice.upn, alice.password)).outcome).toBe('success');
    expect(broken.connections()).toBe(tried);
    await new Promise((r) => setTimeout(r, 400));
    expect((await directory.authenticate(alice.upn, alice.password)).outcome).toBe('success');
    expect(broken.connections()).toBeGreaterThan(tried);
  });

  it('replaces pooled connections the server dropped, without failing the sign-in or blaming the server', async () => {
    const proxy = await cuttingProxy(inject('slapd').port);
    traps.push(proxy);
    const directory = make({ urls: [proxy.url, slapdUrl()] });
    expect((await directory.authenticate(alice.upn, alice.password)).outcome).toBe('success');
    expect(directory.connectionsOpened()).toBe(2);
    proxy.cutExisting();
    expect((await directory.authenticate(bob.upn, bob.password)).outcome).toBe('success');
    expect(directory.deadServers()).toEqual([]);
    // Both the service connection and the bind connection were replaced through the same proxy.
    expect(directory.connectionsOpened()).toBe(4);
    expect(proxy.connections()).toBe(4);
  });

  it('fails over from a server that accepts but never answers (operation timeout)', async () => {
    const hung = await trap(listenAndHang);
    const directory = make({ urls: [hung.url, slapdUrl()] });
    const started = Date.now();
    expect((await directory.authenticate(bob.upn, bob.password)).outcome).toBe('success');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(directory.deadServers()).toEqual([hung.url]);
  });

  it('gives up on a TLS handshake that never completes (connect timeout), ldaps and StartTLS', async () => {
    const hung = await trap(listenAndHang);
    for (const overrides of [{ urls: [`ldaps://127.0.0.1:${hung.port}`] }, { urls: [hung.url], tls: { startTls: true } }]) {
      const directory = make(overrides);
      const started = Date.now();
      await expect(directory.authenticate(alice.upn, alice.password)).rejects.toMatchObject({ name: 'DirectoryUnavailableError' });
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });

  it('throws DirectoryUnavailableError when every server is down, never "wrong password"', async () => {
    const a = await trap(listenAndDrop);
    const b = await trap(listenAndDrop);
    await Promise.all([a.close(), b.close()]); // now nothing listens on either port
    const directory = make({ urls: [a.url, b.url] });
    await expect(directory.authenticate(alice.upn, alice.password)).rejects.toMatchObject({ name: 'DirectoryUnavailableError', status: 503 });
    await expect(directory.authenticate(alice.upn, 'Wrong!Passw0rd')).rejects.toMatchObject({ name: 'DirectoryUnavailableError' });
    await expect(directory.findUser(alice.upn)).rejects.toMatchObject({ name: 'DirectoryUnavailableError' });
    await expect(directory.checkHealth()).rejects.toMatchObject({ name: 'DirectoryUnavailableError' });
    expect(directory.describe()).toBe(`ldap ${a.url} (2 servers)`);
  });
});
