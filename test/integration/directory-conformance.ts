import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Directory } from '../../src/directory/directory.js';
import { EXPECTED_IMMUTABLE_ID, TEST_DOMAIN, TEST_NETBIOS, USERS } from '../harness/users.js';

/**
 * THE conformance suite of the Directory interface: every backend (file, slapd, Samba AD) passes
 * it unchanged, against the users of test/harness/users.ts.
 */
export interface ConformanceTarget {
  /** Builds the directory under test; closed after the suite. */
  create(): Promise<Directory> | Directory;
  /**
   * alice's identifiers as the backend stores them, read independently of fedgate where the
   * backend assigns them itself (Samba): display GUID, string SID, ImmutableID (base64 of the raw
   * objectGUID octets, entra-federation.md §7).
   */
  aliceIds(): Promise<AliceIds> | AliceIds;
}

export interface AliceIds {
  readonly objectGuid: string;
  readonly objectSid: string;
  readonly immutableId: string;
}

/** What the seeds store for alice where fedgate's tests set it (slapd, file): the §7 example. */
export const SEEDED_ALICE_IDS: AliceIds = {
  objectGuid: 'a1b2c3d4-e5f6-4789-9abc-def012345678',
  objectSid: 'S-1-5-21-1004336348-1177238915-682003330-1100',
  immutableId: EXPECTED_IMMUTABLE_ID.alice,
};

const { alice, bob, carol, dave, erin } = USERS;

/** Logins that try to widen the search filter; none may ever sign anyone in or find anyone. */
export const INJECTION_LOGINS = [
  '*', '**', 'alice*', 'a*', '*alice', '*)(userPassword=*', 'alice)(|(uid=*', 'alice)(objectClass=*', '(uid=alice)',
  '*)(|(objectClass=*', 'alice\\', `${TEST_NETBIOS}\\*`, `*@${TEST_DOMAIN}`, 'alice\u0000', 'alice\u0000x', 'ali\u0000ce', ')(', '\\2a',
];

export function directoryConformance(name: string, target: ConformanceTarget): void {
  describe(`Directory conformance: ${name}`, () => {
    let directory: Directory;
    let ids: AliceIds;

    beforeAll(async () => {
      directory = await target.create();
      ids = await target.aliceIds();
    });
    afterAll(async () => {
      await directory?.close();
    });

    const signIn = (login: string, password: string) => directory.authenticate(login, password);

    it.each([
      ['a UPN', alice.upn],
      ['a UPN in other case', alice.upn.toUpperCase()],
      ['DOMAIN\\name', `${TEST_NETBIOS}\\${alice.name}`],
      ['domain\\name in lower case', `${TEST_NETBIOS.toLowerCase()}\\${alice.name}`],
      ['a bare name', alice.name],
    ])('signs alice in by %s', async (_how, login) => {
      const result = await signIn(login, alice.password);
      expect(result.outcome).toBe('success');
      expect(result.user?.username).toBe(alice.name);
    });

    it('returns every attribute the claims need', async () => {
      const result = await signIn(alice.upn, alice.password);
      expect(result.outcome).toBe('success');
      expect(result.user).toMatchObject({
        username: 'alice',
        userPrincipalName: alice.upn,
        sAMAccountName: 'alice',
        mail: alice.mail,
        displayName: alice.displayName,
        givenName: alice.givenName,
        sn: alice.sn,
        objectGuid: ids.objectGuid,
        objectSid: ids.objectSid,
        immutableId: ids.immutableId,
        // People are users; only AD computer accounts are 'computer' (hybrid join, §6.2).
        accountType: 'user',
      });
      expect(result.user?.dn).toBeTruthy();
    });

    it("gives alice's ImmutableID as base64 of the raw objectGUID octets (§7)", async () => {
      const user = await directory.findUser(alice.upn);
      expect(user?.immutableId).toBe(ids.immutableId);
      expect(Buffer.from(user!.immutableId!, 'base64')).toHaveLength(16);
    });

    it('prefers mS-DS-ConsistencyGuid over objectGUID for the ImmutableID (bob)', async () => {
      const result = await signIn(bob.upn, bob.password);
      expect(result.outcome).toBe('success');
      expect(result.user?.immutableId).toBe(EXPECTED_IMMUTABLE_ID.bob);
      expect(result.user?.objectGuid).not.toBe('78551c70-976f-4040-826c-321dbcd2787e');
    });

    it('includes nested groups: alice is in engineers and, through it, in staff', async () => {
      const result = await signIn(alice.name, alice.password);
      expect([...(result.user?.groups ?? [])].sort()).toEqual(['engineers', 'staff']);
      expect(result.user?.groupDns).toHaveLength(2);
      for (const group of ['engineers', 'staff']) {
        expect(result.user?.groupDns.some((dn) => dn.toLowerCase().includes(group))).toBe(true);
      }
    });

    it('refuses a wrong password and an unknown user with the same outcome', async () => {
      expect(await signIn(bob.upn, 'Wrong!Passw0rd')).toMatchObject({ outcome: 'invalid-credentials' });
      expect(await signIn(`nobody@${TEST_DOMAIN}`, 'Wrong!Passw0rd')).toMatchObject({ outcome: 'invalid-credentials' });
      expect(await signIn('nobody', alice.password)).toMatchObject({ outcome: 'invalid-credentials' });
    });

    it('refuses another NetBIOS domain', async () => {
      expect(await signIn(`OTHER\\${alice.name}`, alice.password)).toMatchObject({ outcome: 'invalid-credentials' });
    });

    it('never accepts an empty password (an LDAP unauthenticated bind would "succeed")', async () => {
      for (const login of [alice.upn, alice.name, `${TEST_NETBIOS}\\${alice.name}`]) {
        expect(await signIn(login, '')).toMatchObject({ outcome: 'invalid-credentials' });
      }
    });

    it('refuses an empty login', async () => {
      expect(await signIn('', alice.password)).toMatchObject({ outcome: 'invalid-credentials' });
      expect(await signIn('   ', alice.password)).toMatchObject({ outcome: 'invalid-credentials' });
      expect(await directory.findUser('')).toBeUndefined();
    });

    it.each([
      ['carol', 'disabled', carol],
      ['dave', 'account-expired', dave],
      ['erin', 'must-change-password', erin],
    ] as const)('reports %s as %s after the right password only', async (_name, outcome, user) => {
      expect(await signIn(user.upn, user.password)).toMatchObject({ outcome });
      expect(await signIn(user.upn, 'Wrong!Passw0rd')).toMatchObject({ outcome: 'invalid-credentials' });
    });

    it.each(INJECTION_LOGINS)('never signs in or finds anyone with the login %j', async (login) => {
      for (const password of [alice.password, bob.password, 'x']) {
        const result = await signIn(login, password);
        expect(result.outcome).not.toBe('success');
      }
      expect(await directory.findUser(login)).toBeUndefined();
    });

    it('finds a user without a password, with attributes and groups', async () => {
      for (const login of [alice.upn, `${TEST_NETBIOS}\\${alice.name}`, alice.name]) {
        const user = await directory.findUser(login);
        expect(user?.username).toBe('alice');
        expect(user?.immutableId).toBe(ids.immutableId);
        expect([...(user?.groups ?? [])].sort()).toEqual(['engineers', 'staff']);
      }
      expect((await directory.findUser(carol.name))?.groups).toEqual(['staff']);
      expect((await directory.findUser(USERS.frank.name))?.groups).toEqual([]);
    });

    it('checks an account without a password (Kerberos): the same account rules, no password', async () => {
      // bob: the suites lock alice's and frank's accounts by design, bob has at most one bad password.
      const ok = await directory.checkAccount(bob.name);
      expect(ok.outcome).toBe('success');
      expect(ok.user?.immutableId).toBe(EXPECTED_IMMUTABLE_ID.bob);
      expect([...(ok.user?.groups ?? [])].sort()).toEqual(['engineers', 'staff']);
      expect(await directory.checkAccount(carol.name)).toMatchObject({ outcome: 'disabled' });
      expect(await directory.checkAccount(dave.name)).toMatchObject({ outcome: 'account-expired' });
      expect(await directory.checkAccount('nobody')).toMatchObject({ outcome: 'invalid-credentials' });
      for (const login of INJECTION_LOGINS) expect((await directory.checkAccount(login)).outcome).not.toBe('success');
    });

    it('finds no one for an unknown login', async () => {
      expect(await directory.findUser(`nobody@${TEST_DOMAIN}`)).toBeUndefined();
      expect(await directory.findUser('nobody')).toBeUndefined();
    });

    it('is healthy and describes itself without secrets', async () => {
      await expect(directory.checkHealth()).resolves.toBeUndefined();
      const description = directory.describe();
      expect(description.length).toBeGreaterThan(0);
      expect(description).not.toMatch(/passw/i);
    });
  });
}
