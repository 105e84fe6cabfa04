/**
 * The test users every directory backend is seeded with (slapd, Samba AD, the file directory),
 * so that one conformance suite runs against all of them. Passwords satisfy AD complexity.
 *
 * slapd: base dc=example,dc=test, users uid=<name>,ou=people, groups cn=<name>,ou=groups.
 * Samba: realm EXAMPLE.TEST, NetBIOS EXAMPLE, users CN=<name>,CN=Users,DC=example,DC=test.
 */
export const TEST_DOMAIN = 'example.test';
export const TEST_NETBIOS = 'EXAMPLE';

export interface TestUser {
  readonly name: string;
  readonly password: string;
  readonly givenName: string;
  readonly sn: string;
  readonly displayName: string;
  readonly upn: string;
  readonly mail: string;
  /** objectGUID raw bytes (hex) where the seed can set it (slapd, file); Samba assigns its own. */
  readonly objectGuidHex?: string;
  /** mS-DS-ConsistencyGuid raw bytes (hex), set in every backend where given. */
  readonly consistencyGuidHex?: string;
  /** The state the seed puts the account in. */
  readonly state: 'active' | 'disabled' | 'expired' | 'must-change' | 'lockout-target' | 'password-expired';
}

const user = (name: string, sn: string, state: TestUser['state'], extra: Partial<TestUser> = {}): TestUser => {
  const givenName = name[0]!.toUpperCase() + name.slice(1);
  return {
    name, password: `Passw0rd!${name}`, givenName, sn, displayName: `${givenName} ${sn}`,
    upn: `${name}@${TEST_DOMAIN}`, mail: `${name}@${TEST_DOMAIN}`, state, ...extra,
  };
};

export const USERS = {
  /** entra-federation.md §7 worked example: GUID a1b2c3d4-e5f6-4789-9abc-def012345678. */
  alice: user('alice', 'Anders', 'active', { objectGuidHex: 'd4c3b2a1f6e589479abcdef012345678' }),
  /** Has an mS-DS-ConsistencyGuid that differs from objectGUID: it must win. */
  bob: user('bob', 'Brown', 'active', {
    objectGuidHex: '00112233445566778899aabbccddeeff', consistencyGuidHex: '701c55786f974040826c321dbcd2787e',
  }),
  carol: user('carol', 'Clark', 'disabled', { objectGuidHex: '0f0e0d0c0b0a09080706050403020100' }),
  dave: user('dave', 'Dunn', 'expired', { objectGuidHex: '1f1e1d1c1b1a19181716151413121110' }),
  erin: user('erin', 'Evans', 'must-change', { objectGuidHex: '2f2e2d2c2b2a29282726252423222120' }),
  frank: user('frank', 'Fischer', 'lockout-target', { objectGuidHex: '3f3e3d3c3b3a39383736353433323130' }),
} as const satisfies Record<string, TestUser>;

/** ImmutableIDs the claims must carry (base64 of the raw bytes, §7). */
export const EXPECTED_IMMUTABLE_ID = {
  alice: '1MOyofbliUeavN7wEjRWeA==',
  /** bob's mS-DS-ConsistencyGuid = the S11 capture's bytes. */
  bob: 'cBxVeG+XQECCbDIdvNJ4fg==',
} as const;

/** engineers = {alice, bob}; staff = {engineers, carol}: alice and bob are nested members of staff. */
export const GROUPS = {
  engineers: ['alice', 'bob'],
  staff: ['engineers', 'carol'],
} as const;

/** AD lockout threshold the Samba seed sets (frank is locked by exceeding it). */
export const AD_LOCKOUT_THRESHOLD = 3;
