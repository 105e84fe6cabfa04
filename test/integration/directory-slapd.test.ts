import { describe, expect, it } from 'vitest';
import { createLdapDirectory } from '../../src/directory/ldap/ldap-directory.js';
import { slapdDirectoryConfig, testLogger } from '../harness/directories.js';
import { USERS } from '../harness/users.js';
import { directoryConformance, SEEDED_ALICE_IDS } from './directory-conformance.js';

/** OpenLDAP with AD-like attributes: the AD account state is read after the bind. */
directoryConformance('slapd (ldap://, groups via memberOf)', {
  create: () => createLdapDirectory(slapdDirectoryConfig(), testLogger()),
  aliceIds: () => SEEDED_ALICE_IDS,
});

directoryConformance('slapd (groups via level-by-level search)', {
  create: () => createLdapDirectory(slapdDirectoryConfig({ groups: { strategy: 'search' } }), testLogger()),
  aliceIds: () => SEEDED_ALICE_IDS,
});

describe('slapd specifics', () => {
  it('finds no groups with the in-chain rule, which OpenLDAP does not implement (matches nothing)', async () => {
    const directory = createLdapDirectory(slapdDirectoryConfig({ groups: { strategy: 'in-chain' } }), testLogger());
    try {
      const result = await directory.authenticate(USERS.alice.upn, USERS.alice.password);
      expect(result.outcome).toBe('success');
      expect(result.user?.groups).toEqual([]);
    } finally {
      await directory.close();
    }
  });

  it('finds no groups with strategy none', async () => {
    const directory = createLdapDirectory(slapdDirectoryConfig({ groups: { strategy: 'none' } }), testLogger());
    try {
      expect((await directory.findUser(USERS.alice.name))?.groups).toEqual([]);
    } finally {
      await directory.close();
    }
  });

  it('honours a configured userFilter with the login escaped', async () => {
    const directory = createLdapDirectory(slapdDirectoryConfig({ userFilter: '(uid={login})' }), testLogger());
    try {
      expect((await directory.authenticate('alice', USERS.alice.password)).outcome).toBe('success');
      expect((await directory.authenticate('*', USERS.alice.password)).outcome).toBe('invalid-credentials');
      expect(await directory.findUser('al*')).toBeUndefined();
      expect(await directory.findUser('$&')).toBeUndefined();
    } finally {
      await directory.close();
    }
  });

  it('refuses a login that matches several entries rather than picking one', async () => {
    // mail and sAMAccountName of different users could collide; here cn matches nobody twice,
    // so use a filter that matches every person.
    const directory = createLdapDirectory(slapdDirectoryConfig({ userFilter: '(|(uid={login})(objectClass=inetOrgPerson))' }), testLogger());
    try {
      expect(await directory.authenticate('alice', USERS.alice.password)).toMatchObject({ outcome: 'invalid-credentials' });
    } finally {
      await directory.close();
    }
  });

  it('describes itself without secrets', () => {
    const config = slapdDirectoryConfig();
    const directory = createLdapDirectory(config, testLogger());
    expect(directory.describe()).toBe(`ldap ${config.urls[0]}`);
    expect(directory.describe()).not.toContain(config.bindPassword);
    void directory.close();
  });

  it('treats a service account that cannot bind as unavailable, never as a wrong password', async () => {
    const directory = createLdapDirectory(slapdDirectoryConfig({ bindPassword: 'not-the-admin-password' }), testLogger());
    try {
      await expect(directory.authenticate(USERS.alice.upn, USERS.alice.password)).rejects.toMatchObject({ name: 'DirectoryUnavailableError' });
      await expect(directory.checkHealth()).rejects.toMatchObject({ name: 'DirectoryUnavailableError' });
    } finally {
      await directory.close();
    }
  });
});
