import { Attribute, Change, Client } from 'ldapts';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLdapDirectory, type LdapDirectory } from '../../src/directory/ldap/ldap-directory.js';
import { slapdDirectoryConfig, startExtraSlapd, testLogger, type ExtraSlapd } from '../harness/directories.js';
import { USERS } from '../harness/users.js';

/**
 * What a password sign-in asks of the directory: one search (the entry with its account state and
 * memberOf) and one bind, once the group cache knows the user's groups; and what the cache may
 * hold back: a group's own attributes, for groups.cacheTime, never the user's memberships.
 * A private slapd, since a group is changed here.
 */
const { alice, carol } = USERS;

describe('directory round trips and the group cache (slapd)', () => {
  let slapd: ExtraSlapd;
  let admin: Client;
  const open: LdapDirectory[] = [];
  const directory = (groups: Record<string, unknown> = {}) => {
    const created = createLdapDirectory(slapdDirectoryConfig({
      groups: { strategy: 'memberOf', base: `ou=groups,${slapd.base}`, nameAttribute: 'sAMAccountName', ...groups },
    } as never, slapd), testLogger());
    open.push(created);
    return created;
  };
  const staffDn = () => `cn=staff,ou=groups,${slapd.base}`;
  const renameStaff = (name: string) => admin.modify(staffDn(), new Change({ operation: 'replace', modification: new Attribute({ type: 'sAMAccountName', values: [name] }) }));
  const groupsOfAlice = async (dir: LdapDirectory) => {
    const result = await dir.authenticate(alice.upn, alice.password);
    expect(result.outcome).toBe('success');
    return [...(result.user?.groups ?? [])].sort();
  };

  beforeAll(async () => {
    slapd = await startExtraSlapd({ port: 21490, tlsPort: 21740 });
    admin = new Client({ url: slapd.url, timeout: 5000 });
    await admin.bind(slapd.adminDn, slapd.adminPassword);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await renameStaff('staff');
  });
  afterAll(async () => {
    await Promise.all(open.map((d) => d.close()));
    await admin?.unbind();
    await slapd?.stop();
  });

  it('signs in with one search and one bind once the groups are cached', async () => {
    const dir = directory();
    expect(await groupsOfAlice(dir)).toEqual(['engineers', 'staff']);
    const search = vi.spyOn(Client.prototype, 'search');
    const bind = vi.spyOn(Client.prototype, 'bind');
    expect(await groupsOfAlice(dir)).toEqual(['engineers', 'staff']);
    expect(search).toHaveBeenCalledTimes(1);
    expect(bind).toHaveBeenCalledTimes(1);
    expect(bind.mock.calls[0]?.[0]).toBe(`uid=alice,ou=people,${slapd.base}`);
  });

  it('judges the account state read with the entry: a disabled account with the right password is refused, in two round trips', async () => {
    const dir = directory();
    await dir.authenticate(carol.upn, carol.password); // warms the group cache
    const search = vi.spyOn(Client.prototype, 'search');
    const bind = vi.spyOn(Client.prototype, 'bind');
    expect(await dir.authenticate(carol.upn, carol.password)).toMatchObject({ outcome: 'disabled' });
    expect(search.mock.calls.length + bind.mock.calls.length).toBe(2);
  });

  it('reads a group again only when its cache time is over; with cacheTime 0, at every sign-in', async () => {
    const cached = directory();
    const uncached = directory({ cacheTime: 0 });
    const short = directory({ cacheTime: '300ms' });
    for (const dir of [cached, uncached, short]) expect(await groupsOfAlice(dir)).toEqual(['engineers', 'staff']);
    await renameStaff('all-staff');
    expect(await groupsOfAlice(cached)).toEqual(['engineers', 'staff']);
    expect(await groupsOfAlice(uncached)).toEqual(['all-staff', 'engineers']);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await groupsOfAlice(short)).toEqual(['all-staff', 'engineers']);
  });

  it("never holds back the user's own memberships: leaving a group shows at the next sign-in", async () => {
    const dir = directory();
    expect(await groupsOfAlice(dir)).toEqual(['engineers', 'staff']);
    const engineers = `cn=engineers,ou=groups,${slapd.base}`;
    const member = new Attribute({ type: 'member', values: [`uid=alice,ou=people,${slapd.base}`] });
    await admin.modify(engineers, new Change({ operation: 'delete', modification: member }));
    try {
      // slapd's dynlist answers memberOf transitively: staff went with engineers.
      expect(await groupsOfAlice(dir)).toEqual([]);
    } finally {
      await admin.modify(engineers, new Change({ operation: 'add', modification: member }));
    }
    expect(await groupsOfAlice(dir)).toEqual(['engineers', 'staff']);
  });
});
