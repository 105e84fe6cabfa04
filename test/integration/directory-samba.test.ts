import { readFileSync } from 'node:fs';
import { Client, InvalidCredentialsError } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adBindSubcode } from '../../src/directory/ldap/ad-bind-result.js';
import { createLdapDirectory, type LdapDirectory } from '../../src/directory/ldap/ldap-directory.js';
import { sambaDirectoryConfig, sambaLdapsearch, sambaLdbsearch, sambaServer, testLogger } from '../harness/directories.js';
import { createSambaComputer, disableSambaUser } from '../harness/kerberos.js';
import { AD_LOCKOUT_THRESHOLD, USERS } from '../harness/users.js';
import { directoryConformance } from './directory-conformance.js';

/**
 * Samba as an Active Directory DC: every AD outcome is produced by the DC itself (bind
 * sub-codes), objectGUIDs are Samba's own, nested groups come from the in-chain rule.
 */
const aliceIdsFromSamba = () => ({
  // Read with OpenLDAP's and Samba's own tools, not through fedgate.
  objectGuid: sambaLdbsearch('(sAMAccountName=alice)', 'objectGUID'),
  objectSid: sambaLdbsearch('(sAMAccountName=alice)', 'objectSid'),
  immutableId: sambaLdapsearch('(sAMAccountName=alice)', 'objectGUID'),
});

directoryConformance('Samba AD (ldap://, groups in-chain)', {
  create: () => createLdapDirectory(sambaDirectoryConfig(), testLogger()),
  aliceIds: aliceIdsFromSamba,
});

/** The DN Samba gives a test user (samba-tool user create --use-username-as-cn). */
const dnOf = (name: string) => `CN=${name},CN=Users,${sambaServer().base}`;

/** A raw ldapts simple bind, to see the DC's own answer. */
async function rawBindSubcode(name: string, password: string): Promise<string | undefined> {
  const client = new Client({ url: sambaServer().ldapUrl, timeout: 10_000, connectTimeout: 3000 });
  try {
    await client.bind(dnOf(name), password);
    return 'bound';
  } catch (err) {
    if (!(err instanceof InvalidCredentialsError)) throw err;
    return adBindSubcode(err.message);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

describe('Samba AD specifics', () => {
  let directory: LdapDirectory;
  beforeAll(() => {
    directory = createLdapDirectory(sambaDirectoryConfig(), testLogger());
  });
  afterAll(async () => {
    await directory?.close();
  });

  it.each([
    ['carol', '533', 'disabled', USERS.carol],
    ['dave', '701', 'account-expired', USERS.dave],
    ['erin', '773', 'must-change-password', USERS.erin],
  ] as const)('the DC refuses %s with data %s, which fedgate reports as %s', async (name, subcode, outcome, user) => {
    expect(await rawBindSubcode(name, user.password)).toBe(subcode);
    expect(await directory.authenticate(user.upn, user.password)).toMatchObject({ outcome });
  });

  it('the DC answers a wrong password with data 52e: invalid-credentials', async () => {
    expect(await rawBindSubcode('alice', 'Wrong!Passw0rd')).toBe('52e');
    // A success resets alice's bad-password count (the domain locks after AD_LOCKOUT_THRESHOLD).
    expect((await directory.authenticate(USERS.alice.upn, USERS.alice.password)).outcome).toBe('success');
  });

  it(`locks frank out after ${AD_LOCKOUT_THRESHOLD} bad passwords; then even the right one gives locked-out (data 775)`, async () => {
    const frank = USERS.frank;
    for (let i = 0; i < AD_LOCKOUT_THRESHOLD; i++) {
      expect(await directory.authenticate(frank.upn, `Wrong!Passw0rd${i}`)).toMatchObject({ outcome: 'invalid-credentials' });
    }
    expect(await directory.authenticate(frank.upn, frank.password)).toMatchObject({ outcome: 'locked-out' });
    expect(await directory.authenticate(`EXAMPLE\\${frank.name}`, frank.password)).toMatchObject({ outcome: 'locked-out' });
    expect(await rawBindSubcode('frank', frank.password)).toBe('775');
    // Looking him up (Kerberos, SSO refresh) still works.
    expect((await directory.findUser(frank.upn))?.username).toBe('frank');
  });

  it('ignores the continuation references Samba returns from the domain root', async () => {
    const samba = sambaServer();
    const client = new Client({ url: samba.ldapUrl, timeout: 10_000 });
    try {
      await client.bind(samba.bindDn, samba.bindPassword);
      const { searchReferences } = await client.search(samba.base, { scope: 'sub', filter: '(sAMAccountName=alice)', attributes: ['dn'] });
      expect(searchReferences.length).toBeGreaterThan(0);
    } finally {
      await client.unbind();
    }
    // ...and the directory, searching from that same root, answers without chasing them.
    expect((await directory.findUser(USERS.alice.upn))?.username).toBe('alice');
  });

  it.each(['memberOf', 'search'] as const)('finds nested groups with the %s strategy too', async (strategy) => {
    const other = createLdapDirectory(sambaDirectoryConfig({ groups: { strategy } }), testLogger());
    try {
      const user = await other.findUser(USERS.bob.upn);
      expect([...(user?.groups ?? [])].sort()).toEqual(['engineers', 'staff']);
    } finally {
      await other.close();
    }
  });

  it('signs in over LDAPS with the CA file, verifying the certificate', async () => {
    const samba = sambaServer();
    const tlsDirectory = createLdapDirectory(sambaDirectoryConfig({ urls: [samba.ldapsUrl], tls: { ca: samba.caFile } }), testLogger());
    try {
      const result = await tlsDirectory.authenticate(USERS.alice.upn, USERS.alice.password);
      expect(result.outcome).toBe('success');
      expect(result.user?.immutableId).toBe(aliceIdsFromSamba().immutableId);
      expect(await tlsDirectory.authenticate(USERS.carol.upn, USERS.carol.password)).toMatchObject({ outcome: 'disabled' });
    } finally {
      await tlsDirectory.close();
    }
  });

  it('signs in over StartTLS with the CA file', async () => {
    const samba = sambaServer();
    const tlsDirectory = createLdapDirectory(sambaDirectoryConfig({ tls: { ca: samba.caFile, startTls: true } }), testLogger());
    try {
      expect((await tlsDirectory.authenticate(`EXAMPLE\\${USERS.bob.name}`, USERS.bob.password)).outcome).toBe('success');
      await tlsDirectory.checkHealth();
    } finally {
      await tlsDirectory.close();
    }
  });

  it('does not trust the DC certificate without its CA: unavailable, not a wrong password', async () => {
    const samba = sambaServer();
    expect(readFileSync(samba.caFile, 'utf8')).toContain('BEGIN CERTIFICATE');
    const untrusting = createLdapDirectory(sambaDirectoryConfig({ urls: [samba.ldapsUrl] }), testLogger());
    try {
      await expect(untrusting.authenticate(USERS.alice.upn, USERS.alice.password)).rejects.toMatchObject({ name: 'DirectoryUnavailableError' });
    } finally {
      await untrusting.close();
    }
  });
});

describe('Samba AD computer accounts (hybrid join, entra-federation.md §6.2)', () => {
  const name = `DIRPC${process.pid % 10000}`;
  let account: string;
  // AD's default filter for users matches computers too (objectClass computer is a subclass of user).
  let directory: LdapDirectory;
  beforeAll(async () => {
    account = await createSambaComputer(name, `Passw0rd!dir${process.pid % 10000}`);
    directory = createLdapDirectory(sambaDirectoryConfig({ userObjectFilter: '(objectClass=user)' }), testLogger());
  });
  afterAll(async () => {
    await directory?.close();
  });

  it('finds a computer by its sAMAccountName NAME$, as a computer in Domain Computers with its own GUID and SID', async () => {
    const outcome = await directory.checkAccount(account);
    expect(outcome.outcome).toBe('success');
    expect(outcome.user).toMatchObject({
      username: account,
      accountType: 'computer',
      primaryGroupId: 515,
      objectGuid: sambaLdbsearch(`(sAMAccountName=${account})`, 'objectGUID'),
      objectSid: sambaLdbsearch(`(sAMAccountName=${account})`, 'objectSid'),
    });
    expect((await directory.findUser(USERS.bob.name))).toMatchObject({ accountType: 'user', primaryGroupId: 513 });
  });

  it('a filter for people only (objectCategory=person) does not find computers', async () => {
    const people = createLdapDirectory(sambaDirectoryConfig(), testLogger());
    try {
      expect(await people.checkAccount(account)).toMatchObject({ outcome: 'invalid-credentials' });
    } finally {
      await people.close();
    }
  });

  it('a disabled computer is disabled for checkAccount (no password: Kerberos proved it)', async () => {
    const off = await createSambaComputer(`${name}X`, `Passw0rd!dir${process.pid % 10000}`);
    await disableSambaUser(off);
    expect(await directory.checkAccount(off)).toMatchObject({ outcome: 'disabled' });
  });
});
