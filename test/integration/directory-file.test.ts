import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { stringify } from 'yaml';
import { createFileDirectory } from '../../src/directory/file/file-directory.js';
import { hashPassword } from '../../src/directory/file/password-hash.js';
import { guidToString } from '../../src/directory/guid.js';
import { AD_LOCKOUT_THRESHOLD, GROUPS, TEST_NETBIOS, USERS, type TestUser } from '../harness/users.js';
import { directoryConformance, SEEDED_ALICE_IDS } from './directory-conformance.js';

/** The demo file directory, seeded with the same users as slapd and Samba. */
const STATE: Record<TestUser['state'], string> = {
  active: 'active', disabled: 'disabled', expired: 'expired', 'must-change': 'must-change',
  'lockout-target': 'active', 'password-expired': 'password-expired',
};

const dir = mkdtempSync(join(os.tmpdir(), 'fedgate-file-directory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function writeUsersFile(): Promise<string> {
  const users = await Promise.all(Object.values(USERS).map(async (u: TestUser, i) => ({
    username: u.name,
    passwordHash: await hashPassword(u.password),
    userPrincipalName: u.upn,
    mail: u.mail,
    displayName: u.displayName,
    givenName: u.givenName,
    sn: u.sn,
    ...(u.objectGuidHex ? { objectGuid: guidToString(Buffer.from(u.objectGuidHex, 'hex')) } : {}),
    ...(u.consistencyGuidHex ? { consistencyGuid: guidToString(Buffer.from(u.consistencyGuidHex, 'hex')) } : {}),
    // The same SIDs as the slapd seed (RIDs 1100...).
    objectSid: `S-1-5-21-1004336348-1177238915-682003330-${1100 + i}`,
    state: STATE[u.state],
  })));
  const path = join(dir, 'users.yaml');
  writeFileSync(path, stringify({
    netbiosDomain: TEST_NETBIOS,
    lockoutThreshold: AD_LOCKOUT_THRESHOLD,
    users,
    groups: Object.entries(GROUPS).map(([name, members]) => ({ name, members: [...members] })),
  }));
  return path;
}

directoryConformance('file', {
  create: async () => createFileDirectory(await writeUsersFile()),
  aliceIds: () => SEEDED_ALICE_IDS,
});
