import type { Entry } from 'ldapts';
import { describe, expect, it } from 'vitest';
import {
  EntryReader,
  immutableIdOf,
  isBinaryAttribute,
  toDirectoryUser,
  userAttributeRequest,
} from '../../src/directory/ldap/attributes.js';

/** entra-federation.md §7, the worked example. */
const GUID_DISPLAY = 'a1b2c3d4-e5f6-4789-9abc-def012345678';
const GUID_STORED = Buffer.from('d4c3b2a1f6e589479abcdef012345678', 'hex');
const GUID_IMMUTABLE_ID = '1MOyofbliUeavN7wEjRWeA==';
/** §7, the S11 capture: a different object, so a wrong fallback shows. */
const CONSISTENCY_STORED = Buffer.from('701c55786f974040826c321dbcd2787e', 'hex');
const CONSISTENCY_IMMUTABLE_ID = 'cBxVeG+XQECCbDIdvNJ4fg==';
/** S-1-5-21-1004362972-1177239171-682018946-1104 */
const SID_STORED = Buffer.from('010500000000000515000000dc5cdd3b833e2b4682c8a62850040000', 'hex');

const ANCHORS = ['mS-DS-ConsistencyGuid', 'objectGUID'] as const;
const NO_GROUPS = { names: [], dns: [] };

const entry = (attributes: Omit<Entry, 'dn'>, dn = 'CN=Alice Example,OU=Staff,DC=example,DC=test'): Entry => ({ dn, ...attributes });
const reader = (attributes: Omit<Entry, 'dn'>, dn?: string) => new EntryReader(entry(attributes, dn));

describe('EntryReader', () => {
  it('entry reader: attribute names are matched case-insensitively', () => {
    const r = reader({ userPrincipalName: 'alice@example.test', SAMACCOUNTNAME: 'alice', objectguid: GUID_STORED });
    expect(r.string('userprincipalname')).toBe('alice@example.test');
    expect(r.string('USERPRINCIPALNAME')).toBe('alice@example.test');
    expect(r.string('sAMAccountName')).toBe('alice');
    expect(r.buffer('objectGUID')).toEqual(GUID_STORED);
  });

  it('entry reader: the dn is the entry dn and is not an attribute', () => {
    const r = reader({}, 'CN=Bob,DC=example,DC=test');
    expect(r.dn).toBe('CN=Bob,DC=example,DC=test');
    expect(r.strings('dn')).toEqual([]);
    expect(r.string('dn')).toBeUndefined();
  });

  it('entry reader: single values and multi-valued attributes both read as lists', () => {
    const r = reader({ mail: 'alice@example.test', memberOf: ['CN=A,DC=example,DC=test', 'CN=B,DC=example,DC=test'] });
    expect(r.strings('mail')).toEqual(['alice@example.test']);
    expect(r.strings('memberof')).toEqual(['CN=A,DC=example,DC=test', 'CN=B,DC=example,DC=test']);
    expect(r.string('memberOf')).toBe('CN=A,DC=example,DC=test');
  });

  it('entry reader: a missing attribute is empty / undefined', () => {
    const r = reader({});
    expect(r.strings('mail')).toEqual([]);
    expect(r.string('mail')).toBeUndefined();
    expect(r.buffer('objectGUID')).toBeUndefined();
  });

  it('entry reader: binary values read as text are decoded as UTF-8', () => {
    expect(reader({ displayName: Buffer.from('Zoë Ünal', 'utf8') }).string('displayName')).toBe('Zoë Ünal');
  });

  it('entry reader: a value ldapts already decoded as a string is not passed off as bytes', () => {
    expect(reader({ objectGUID: 'garbled-guid-text' }).buffer('objectGUID')).toBeUndefined();
  });
});

describe('immutableIdOf', () => {
  it('immutable id: base64 of the raw stored GUID bytes (§7 example)', () => {
    expect(immutableIdOf(reader({ objectGUID: GUID_STORED }), ['objectGUID'])).toBe(GUID_IMMUTABLE_ID);
  });

  it('immutable id: mS-DS-ConsistencyGuid is taken before objectGUID when both are present', () => {
    const r = reader({ 'mS-DS-ConsistencyGuid': CONSISTENCY_STORED, objectGUID: GUID_STORED });
    expect(immutableIdOf(r, ANCHORS)).toBe(CONSISTENCY_IMMUTABLE_ID);
  });

  it('immutable id: without a consistency GUID, objectGUID is used', () => {
    expect(immutableIdOf(reader({ objectGUID: GUID_STORED }), ANCHORS)).toBe(GUID_IMMUTABLE_ID);
  });

  it('immutable id: the anchor order of the configuration decides, not the order of the entry', () => {
    const r = reader({ objectGUID: GUID_STORED, 'mS-DS-ConsistencyGuid': CONSISTENCY_STORED });
    expect(immutableIdOf(r, ['objectGUID', 'mS-DS-ConsistencyGuid'])).toBe(GUID_IMMUTABLE_ID);
    expect(immutableIdOf(r, ANCHORS)).toBe(CONSISTENCY_IMMUTABLE_ID);
  });

  it('immutable id: the anchor is found whatever case the server spells its name in', () => {
    expect(immutableIdOf(reader({ 'ms-ds-consistencyguid': CONSISTENCY_STORED, objectguid: GUID_STORED }), ANCHORS))
      .toBe(CONSISTENCY_IMMUTABLE_ID);
  });

  it('immutable id: a consistency GUID that came back as a string gives no ImmutableID rather than the objectGUID one', () => {
    const r = reader({ 'mS-DS-ConsistencyGuid': 'p\uFFFDUxo\uFFFD@@\uFFFDl2\u001D\uFFFD\uFFFDx~', objectGUID: GUID_STORED });
    expect(immutableIdOf(r, ANCHORS)).toBeUndefined();
  });

  it('immutable id: an objectGUID that came back as a string gives no ImmutableID', () => {
    expect(immutableIdOf(reader({ objectGUID: 'not bytes' }), ANCHORS)).toBeUndefined();
  });

  it('immutable id: no anchor present gives no ImmutableID', () => {
    expect(immutableIdOf(reader({ userPrincipalName: 'alice@example.test' }), ANCHORS)).toBeUndefined();
  });

  it('immutable id: a text anchor is returned as it is, not base64-encoded', () => {
    expect(immutableIdOf(reader({ employeeID: 'E-00042' }), ['employeeID'])).toBe('E-00042');
    expect(immutableIdOf(reader({ EMPLOYEEID: 'E-00042' }), ['employeeID', 'objectGUID'])).toBe('E-00042');
  });

  it('immutable id: an absent text anchor falls through to the next anchor', () => {
    expect(immutableIdOf(reader({ objectGUID: GUID_STORED }), ['employeeID', 'objectGUID'])).toBe(GUID_IMMUTABLE_ID);
  });

  it('immutable id: a binary anchor is base64 of all its bytes, whatever their length', () => {
    const raw = Buffer.from([0x00, 0xff, 0x10]);
    expect(immutableIdOf(reader({ 'msDS-ConsistencyGuid': raw }), ['msDS-ConsistencyGuid'])).toBe('AP8Q');
  });
});

describe('attribute request', () => {
  it('attribute request: GUIDs, SIDs and consistency GUIDs are binary, in any case', () => {
    for (const name of ['objectGUID', 'OBJECTGUID', 'objectSid', 'objectsid', 'mS-DS-ConsistencyGuid', 'msDS-ConsistencyGuid']) {
      expect(isBinaryAttribute(name), name).toBe(true);
    }
    for (const name of ['userPrincipalName', 'employeeID', 'mail']) expect(isBinaryAttribute(name), name).toBe(false);
  });

  it('attribute request: asks for the user attributes, the binary ones and the anchors', () => {
    const req = userAttributeRequest(['employeeID', 'objectGUID'], ['memberOf']);
    expect(req.attributes).toEqual(expect.arrayContaining([
      'userPrincipalName', 'sAMAccountName', 'uid', 'mail', 'displayName', 'givenName', 'sn', 'cn',
      'objectGUID', 'objectSid', 'mS-DS-ConsistencyGuid', 'employeeID', 'memberOf',
    ]));
    expect(new Set(req.attributes).size).toBe(req.attributes.length);
  });

  it('attribute request: binary attributes are asked as buffers in both their spelling and lower case; text anchors are not', () => {
    const req = userAttributeRequest(['employeeID', 'mS-DS-ConsistencyGuid', 'objectGUID']);
    expect(req.explicitBufferAttributes).toEqual(expect.arrayContaining([
      'objectGUID', 'objectguid', 'objectSid', 'objectsid', 'mS-DS-ConsistencyGuid', 'ms-ds-consistencyguid',
    ]));
    expect(req.explicitBufferAttributes).not.toContain('employeeID');
    expect(req.explicitBufferAttributes).not.toContain('employeeid');
    expect(new Set(req.explicitBufferAttributes).size).toBe(req.explicitBufferAttributes.length);
  });
});

describe('toDirectoryUser', () => {
  const adEntry = {
    userPrincipalName: 'alice@example.test',
    sAMAccountName: 'alice',
    mail: 'alice.example@example.test',
    displayName: 'Alice Example',
    givenName: 'Alice',
    sn: 'Example',
    cn: 'Alice Example',
    objectGUID: GUID_STORED,
    objectSid: SID_STORED,
  };

  it('directory user: an AD entry maps to a user with display-form GUID, string SID and ImmutableID', () => {
    const groups = { names: ['Staff', 'VPN Users'], dns: ['CN=Staff,DC=example,DC=test', 'CN=VPN Users,DC=example,DC=test'] };
    expect(toDirectoryUser(reader(adEntry), ANCHORS, groups)).toEqual({
      dn: 'CN=Alice Example,OU=Staff,DC=example,DC=test',
      username: 'alice',
      userPrincipalName: 'alice@example.test',
      sAMAccountName: 'alice',
      mail: 'alice.example@example.test',
      displayName: 'Alice Example',
      givenName: 'Alice',
      sn: 'Example',
      objectGuid: GUID_DISPLAY,
      objectSid: 'S-1-5-21-1004362972-1177239171-682018946-1104',
      immutableId: GUID_IMMUTABLE_ID,
      accountType: 'user',
      groups: ['Staff', 'VPN Users'],
      groupDns: ['CN=Staff,DC=example,DC=test', 'CN=VPN Users,DC=example,DC=test'],
    });
  });

  it('directory user: the ImmutableID follows the consistency GUID while objectGuid stays the objectGUID', () => {
    const user = toDirectoryUser(reader({ ...adEntry, 'mS-DS-ConsistencyGuid': CONSISTENCY_STORED }), ANCHORS, NO_GROUPS);
    expect(user.immutableId).toBe(CONSISTENCY_IMMUTABLE_ID);
    expect(user.objectGuid).toBe(GUID_DISPLAY);
  });

  it('directory user: a computer account (objectClass computer, AD sends the whole chain) with its primary group', () => {
    const computer = toDirectoryUser(reader({ ...adEntry, objectClass: ['top', 'person', 'organizationalPerson', 'user', 'computer'], primaryGroupID: '515' }), ANCHORS, NO_GROUPS);
    expect(computer).toMatchObject({ accountType: 'computer', primaryGroupId: 515 });
    const user = toDirectoryUser(reader({ ...adEntry, objectClass: ['top', 'person', 'organizationalPerson', 'user'], primaryGroupID: '513' }), ANCHORS, NO_GROUPS);
    expect(user).toMatchObject({ accountType: 'user', primaryGroupId: 513 });
    expect(toDirectoryUser(reader({ ...adEntry, primaryGroupID: 'x' }), ANCHORS, NO_GROUPS).primaryGroupId).toBeUndefined();
  });

  it('directory user: the group lists are copies, not the caller’s arrays', () => {
    const names = ['Staff'];
    const dns = ['CN=Staff,DC=example,DC=test'];
    const user = toDirectoryUser(reader(adEntry), ANCHORS, { names, dns });
    names.push('Injected');
    dns.push('CN=Injected');
    expect(user.groups).toEqual(['Staff']);
    expect(user.groupDns).toEqual(['CN=Staff,DC=example,DC=test']);
  });

  it('directory user: the username is sAMAccountName, else uid, else the UPN local part, else cn, else the dn', () => {
    const username = (attrs: Omit<Entry, 'dn'>) => toDirectoryUser(reader(attrs, 'uid=x,dc=example,dc=test'), ANCHORS, NO_GROUPS).username;
    expect(username({ sAMAccountName: 'alice', uid: 'a1', userPrincipalName: 'al@example.test', cn: 'Alice' })).toBe('alice');
    expect(username({ uid: 'a1', userPrincipalName: 'al@example.test', cn: 'Alice' })).toBe('a1');
    expect(username({ userPrincipalName: 'al@example.test', cn: 'Alice' })).toBe('al');
    expect(username({ cn: 'Alice' })).toBe('Alice');
    expect(username({})).toBe('uid=x,dc=example,dc=test');
  });

  it('directory user: an OpenLDAP entry without GUID or SID has neither, nor an ImmutableID', () => {
    const user = toDirectoryUser(reader({ uid: 'bob', mail: 'bob@example.test', cn: 'Bob' }, 'uid=bob,ou=people,dc=example,dc=test'), ANCHORS, NO_GROUPS);
    expect(user).toMatchObject({ dn: 'uid=bob,ou=people,dc=example,dc=test', username: 'bob', mail: 'bob@example.test' });
    expect(user.objectGuid).toBeUndefined();
    expect(user.objectSid).toBeUndefined();
    expect(user.immutableId).toBeUndefined();
    expect(user.userPrincipalName).toBeUndefined();
  });

  it('directory user: an objectGUID that is not 16 bytes has no display form', () => {
    const user = toDirectoryUser(reader({ ...adEntry, objectGUID: GUID_STORED.subarray(0, 15) }), ['employeeID'], NO_GROUPS);
    expect(user.objectGuid).toBeUndefined();
  });

  it('directory user: GUID and SID that came back as strings are left out rather than misread', () => {
    const user = toDirectoryUser(reader({ ...adEntry, objectGUID: 'text', objectSid: 'S-1-5-21-1-2-3-1104' }), ANCHORS, NO_GROUPS);
    expect(user.objectGuid).toBeUndefined();
    expect(user.objectSid).toBeUndefined();
    expect(user.immutableId).toBeUndefined();
  });
});
