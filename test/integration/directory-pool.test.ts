import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createLdapDirectory, type LdapDirectory } from '../../src/directory/ldap/ldap-directory.js';
import { slapdDirectoryConfig, testLogger } from '../harness/directories.js';
import { ownConnectionsTo } from '../harness/tcp.js';
import { USERS } from '../harness/users.js';

/** Sign-ins reuse pooled connections: no connection per sign-in, counted in /proc too. */
const { alice, bob } = USERS;
const POOL_SIZE = 3;

describe.each([
  ['ldap://', {}],
  ['StartTLS', { tls: { startTls: true } }],
] as const)('connection pool over %s', (_name, overrides) => {
  let directory: LdapDirectory;
  let port: number;

  beforeAll(async () => {
    const slapd = inject('slapd');
    port = slapd.port;
    const tls = 'tls' in overrides ? { ...overrides.tls, ca: slapd.caFile } : undefined;
    directory = createLdapDirectory(slapdDirectoryConfig({ poolSize: POOL_SIZE, ...(tls ? { tls } : {}) }), testLogger());
    expect((await directory.authenticate(alice.upn, alice.password)).outcome).toBe('success');
  });
  afterAll(async () => {
    await directory?.close();
  });

  it('opens one service connection and one bind connection for the first sign-in', () => {
    expect(directory.connectionsOpened()).toBe(2);
    expect(ownConnectionsTo(port)).toBe(2);
  });

  it('keeps the same connections over 50 sequential sign-ins', async () => {
    for (let i = 0; i < 50; i++) {
      const user = i % 2 ? alice : bob;
      expect((await directory.authenticate(user.upn, user.password)).outcome).toBe('success');
    }
    expect(directory.connectionsOpened()).toBe(2);
    expect(ownConnectionsTo(port)).toBe(2);
  });

  it(`never holds more than poolSize + 1 connections, over 2 x 50 concurrent sign-ins`, async () => {
    const burst = () => Promise.all(Array.from({ length: 50 }, (_, i) => {
      const user = i % 2 ? alice : bob;
      return directory.authenticate(user.upn, i % 5 === 0 ? 'Wrong!Passw0rd' : user.password);
    }));
    const first = await burst();
    expect(first.filter((r) => r.outcome === 'success')).toHaveLength(40);
    expect(first.filter((r) => r.outcome === 'invalid-credentials')).toHaveLength(10);
    const opened = directory.connectionsOpened();
    expect(opened).toBeLessThanOrEqual(POOL_SIZE + 1);
    await burst();
    expect(directory.connectionsOpened()).toBe(opened);
    expect(ownConnectionsTo(port)).toBe(opened);
  });

  it('closes every connection on close()', async () => {
    await directory.close();
    const deadline = Date.now() + 2000;
    while (ownConnectionsTo(port) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(ownConnectionsTo(port)).toBe(0);
    await expect(directory.authenticate(alice.upn, alice.password)).rejects.toMatchObject({ name: 'DirectoryUnavailableError' });
  });
});
