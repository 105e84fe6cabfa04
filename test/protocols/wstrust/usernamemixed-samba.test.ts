import { describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../harness/app.js';
import { sambaDirectoryConfig, sambaLdapsearch } from '../../harness/directories.js';
import { EXPECTED_IMMUTABLE_ID, USERS } from '../../harness/users.js';
import type { EntraTenant } from '../../entra/login-srf.js';
import { xmlsec1VerifiesWith } from '../../xml/signature-oracles.js';
import { entraVerdict, msalFault, msalToken, postExchange, postMsal } from './wstrust-client.js';

/**
 * usernamemixed against a real AD (Samba as a domain controller): the password checked by an LDAP
 * bind, AD's own account states (disabled, must change) mapped to faults, and the ImmutableID in
 * the token what the directory holds (§7).
 */
const ISSUER = 'http://example.test/adfs/services/trust/';

async function sambaApp(): Promise<TestApp> {
  return startTestApp({ relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains: ['example.test'] }] }, { directoryConfig: sambaDirectoryConfig() });
}

function tenant(t: TestApp): EntraTenant {
  return {
    domains: [{ name: 'example.test', issuerUri: ISSUER, signingCertificate: t.services.keys.current.certificateBase64 }],
    users: [
      { upn: USERS.alice.upn, immutableId: sambaLdapsearch('(sAMAccountName=alice)', 'objectGUID') },
      { upn: USERS.bob.upn, immutableId: EXPECTED_IMMUTABLE_ID.bob },
    ],
  };
}

describe('usernamemixed against Samba AD', () => {
  it('alice over 1.3 (MSAL) and bob over 2005 (Exchange) get tokens Entra accepts, with the directory\'s ImmutableID', async () => {
    const t = await sambaApp();
    try {
      const sentAt = new Date();
      const msal = await postMsal(t, '13', { username: USERS.alice.upn, password: USERS.alice.password });
      expect(msal.status, msal.text).toBe(200);
      const exchange = await postExchange(t, { username: USERS.bob.upn, password: USERS.bob.password });
      expect(exchange.status, exchange.text).toBe(200);
      for (const [res, user] of [[msal, USERS.alice], [exchange, USERS.bob]] as const) {
        const token = msalToken(res.text)!.token;
        const verdict = entraVerdict(token, tenant(t), sentAt);
        expect(verdict.errors).toEqual([]);
        expect(verdict.user?.upn).toBe(user.upn);
        expect(verdict.claims?.issuer).toBe(ISSUER);
        expect(xmlsec1VerifiesWith(token, 'saml11', t.services.keys.current)).toBe(true);
      }
      expect(t.logText()).not.toContain(USERS.alice.password);
    } finally {
      await t.services.directory.close();
    }
  });

  it('AD\'s outcomes: a wrong password, an unknown user and a disabled account look the same; must-change is ExpiredPassword', async () => {
    const t = await sambaApp();
    try {
      const messageId = '5a3ba000-0000-4000-8000-000000000001';
      const wrong = await postMsal(t, '2005', { username: USERS.alice.upn, password: 'not-the-password', messageId });
      // The right password next: AD's bad-password count for alice starts again.
      expect((await postMsal(t, '2005', { username: USERS.alice.upn, password: USERS.alice.password })).status).toBe(200);
      const unknown = await postMsal(t, '2005', { username: 'nobody@example.test', password: 'not-the-password', messageId });
      const disabled = await postMsal(t, '2005', { username: USERS.carol.upn, password: USERS.carol.password, messageId });
      expect(wrong.status).toBe(500);
      expect(msalFault(wrong.text).code).toBe('a:FailedAuthentication');
      expect(unknown.text).toBe(wrong.text);
      expect(disabled.text).toBe(wrong.text);
      const mustChange = await postMsal(t, '2005', { username: USERS.erin.upn, password: USERS.erin.password });
      expect(msalFault(mustChange.text).code).toBe('a:FailedAuthentication.ExpiredPassword');
      expect(t.audits('signin.failure').map((e) => e.outcome)).toEqual(['invalid-credentials', 'invalid-credentials', 'disabled', 'must-change-password']);
    } finally {
      await t.services.directory.close();
    }
  });
});
