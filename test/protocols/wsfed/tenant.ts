import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../../../src/directory/file/password-hash.js';
import { guidFromString, immutableIdFromBytes } from '../../../src/directory/guid.js';

/**
 * A small organisation for WS-Fed tests: users in two federated domains, a sub-domain and a
 * domain that is not federated, in a file directory; the Entra relying party for contoso.test
 * and fabrikam.test; two generic WS-Fed applications.
 */
export const PASSWORD = 'Passw0rd!tenant';

export const TENANT_USERS = {
  alice: { login: 'alice@contoso.test', guid: 'a1b2c3d4-e5f6-4789-9abc-def012345678' },
  sam: { login: 'sam@sales.contoso.test', guid: '0a0b0c0d-0e0f-4a1b-8c2d-3e4f5a6b7c8d' },
  fred: { login: 'fred@fabrikam.test', guid: '11111111-2222-4333-8444-555555555555' },
  olga: { login: 'olga@other.test', guid: '99999999-8888-4777-8666-555555555555' },
} as const;

export const immutableIdOf = (guid: string) => immutableIdFromBytes(guidFromString(guid));

export const APP_A = { identifier: 'urn:test:app-a', replyUrl: 'https://app-a.test/signin-wsfed' };
export const APP_B = { identifier: 'urn:test:app-b', replyUrl: 'https://app-b.test/signin-wsfed' };
export const FABRIKAM_ISSUER = 'urn:fabrikam:issuer';

export async function writeTenantUsers(): Promise<string> {
  const hash = await hashPassword(PASSWORD);
  const users = Object.entries(TENANT_USERS).map(([name, u]) =>
    `  - username: ${name}\n    passwordHash: "${hash}"\n    userPrincipalName: ${u.login}\n    mail: ${u.login}\n    displayName: ${name}\n    objectGuid: ${u.guid}\n`).join('');
  const path = join(mkdtempSync(join(tmpdir(), 'fedgate-tenant-')), 'users.yaml');
  writeFileSync(path, `netbiosDomain: CONTOSO\nusers:\n${users}groups:\n  - name: staff\n    members: [alice, sam, fred]\n`);
  return path;
}

/** The relying parties of the tenant, as configuration. */
export const TENANT_RELYING_PARTIES = [
  { protocol: 'wsfed', profile: 'entra', displayName: 'Microsoft 365', domains: ['contoso.test', { name: 'fabrikam.test', issuerUri: FABRIKAM_ISSUER }] },
  { protocol: 'wsfed', identifier: APP_A.identifier, displayName: 'App A', replyUrls: [APP_A.replyUrl, 'https://app-a.test/other'] },
  { protocol: 'wsfed', identifier: APP_B.identifier, displayName: 'App B', replyUrls: [APP_B.replyUrl], claims: ['upn', 'email', { claim: 'groups', as: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role' }] },
];
