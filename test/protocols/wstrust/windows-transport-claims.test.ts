import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_USERS_FILE } from '../../../src/cli/embedded-demo.js';
import { parseConfig } from '../../../src/config/load.js';
import type { WsfedRelyingPartyConfig } from '../../../src/config/schema.js';
import type { DirectoryUser, Principal } from '../../../src/core/principal.js';
import { wsfedTokenContent } from '../../../src/protocols/wsfed/wsfed-claims.js';

/**
 * Which token windowstransport issues (entra-federation.md §6.2): the device token only for a
 * domain-joined computer, its ImmutableID always from objectGUID; users get accounttype User
 * there and nowhere else (passive WS-Fed tokens stay as they were).
 */
const dir = mkdtempSync(join(tmpdir(), 'fedgate-wt-claims-'));
function entraRp(domains: string[]): WsfedRelyingPartyConfig {
  const config = parseConfig({
    server: { baseUrl: 'https://sts.example.test' }, dataDir: dir, directory: { type: 'file', path: DEMO_USERS_FILE },
    relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains }],
  }, 'test', dir, {});
  return config.relyingParties[0] as WsfedRelyingPartyConfig;
}

// §7's example: the display GUID whose raw octets are 1MOyofbliUeavN7wEjRWeA==.
const COMPUTER: DirectoryUser = {
  dn: 'CN=PC1,CN=Computers,DC=example,DC=test', username: 'PC1$', sAMAccountName: 'PC1$',
  objectGuid: 'a1b2c3d4-e5f6-4789-9abc-def012345678', objectSid: 'S-1-5-21-1-2-3-1105',
  // A consistency-GUID anchor for users must not change the computer's ImmutableID.
  immutableId: 'cBxVeG+XQECCbDIdvNJ4fg==',
  accountType: 'computer', primaryGroupId: 515, groups: [], groupDns: [],
};
const USER: DirectoryUser = {
  dn: 'CN=alice,CN=Users,DC=example,DC=test', username: 'alice', userPrincipalName: 'alice@example.test',
  immutableId: 'cBxVeG+XQECCbDIdvNJ4fg==', accountType: 'user', primaryGroupId: 513, groups: [], groupDns: [],
};
const kerberos = (user: DirectoryUser): Principal => ({ user, authentication: { kind: 'kerberos', instant: new Date().toISOString() } });
const windowsTransport = { insideCorporateNetwork: true, windowsTransport: true };
const options = { defaultIssuer: 'https://sts.example.test' };
/** The IdpError's log detail (its message is for people). */
function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { detail?: string }).detail;
  }
  return undefined;
}
const names = (attrs: readonly { name: string }[]) => attrs.map((a) => a.name);

describe('windowstransport claims', () => {
  it('a domain-joined computer: NameIdentifier, ImmutableID and onpremobjectguid are base64 of its raw objectGUID', () => {
    const content = wsfedTokenContent(kerberos(COMPUTER), entraRp(['example.test']), windowsTransport, options);
    expect(content.nameIdentifier).toEqual({ value: '1MOyofbliUeavN7wEjRWeA==', format: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified' });
    expect(content.attributes).toEqual([
      { name: 'accounttype', namespace: 'http://schemas.microsoft.com/ws/2012/01', values: ['DJ'] },
      { name: 'onpremobjectguid', namespace: 'http://schemas.microsoft.com/identity/claims', values: ['1MOyofbliUeavN7wEjRWeA=='] },
      { name: 'primarysid', namespace: 'http://schemas.microsoft.com/ws/2008/06/identity/claims', values: ['S-1-5-21-1-2-3-1105'] },
      { name: 'ImmutableID', namespace: 'http://schemas.microsoft.com/LiveID/Federation/2008/05', values: ['1MOyofbliUeavN7wEjRWeA=='] },
      { name: 'insidecorporatenetwork', namespace: 'http://schemas.microsoft.com/ws/2012/01', values: ['true'] },
    ]);
    expect(content.issuer).toBe('http://example.test/adfs/services/trust/');
    expect(content.authenticationMethod).toBe('urn:federation:authentication:windows');
  });

  it('issuerid only with more than one domain, naming the first listed, which is also the Issuer', () => {
    const content = wsfedTokenContent(kerberos(COMPUTER), entraRp(['contoso.test', 'example.test']), windowsTransport, options);
    expect(content.issuer).toBe('http://contoso.test/adfs/services/trust/');
    expect(content.attributes.find((a) => a.name === 'issuerid')).toEqual(
      { name: 'issuerid', namespace: 'http://schemas.microsoft.com/ws/2008/06/identity/claims', values: ['http://contoso.test/adfs/services/trust/'] });
  });

  it('a computer outside Domain Computers (a DC, 516) is not domain-joined: it gets the user rules, which need a UPN', () => {
    expect(refusal(() => wsfedTokenContent(kerberos({ ...COMPUTER, primaryGroupId: 516 }), entraRp(['example.test']), windowsTransport, options))).toMatch(/^UPN \(none\)/);
  });

  it('a computer without objectSid gets no token rather than one without primarysid', () => {
    expect(refusal(() => wsfedTokenContent(kerberos({ ...COMPUTER, objectSid: undefined }), entraRp(['example.test']), windowsTransport, options))).toMatch(/lacks objectSid/);
  });

  it('a user gets accounttype User on windowstransport only', () => {
    const rp = entraRp(['example.test']);
    const active = wsfedTokenContent(kerberos(USER), rp, windowsTransport, options);
    expect(active.attributes.at(-1)).toEqual({ name: 'accounttype', namespace: 'http://schemas.microsoft.com/ws/2012/01', values: ['User'] });
    expect(active.nameIdentifier.value).toBe(USER.immutableId);
    const passive = wsfedTokenContent(kerberos(USER), rp, { insideCorporateNetwork: true }, options);
    expect(names(passive.attributes)).toEqual(['UPN', 'ImmutableID', 'authnmethodsreferences', 'insidecorporatenetwork']);
  });
});
