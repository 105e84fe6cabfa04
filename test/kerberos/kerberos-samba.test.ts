import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { sambaDirectoryConfig, sambaLdapsearch } from '../harness/directories.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { createSambaUser, disableSambaUser, kinit, negotiateToken, sambaKerberos } from '../harness/kerberos.js';
import { USERS } from '../harness/users.js';
import { formOf } from '../http/sign-in-flow.js';
import { validateLoginSrfPost } from '../entra/login-srf.js';
import { readAutopost } from '../protocols/wsfed/autopost.js';

/**
 * Kerberos against the real Samba AD domain controller: its KDC issues the tickets, its LDAP is
 * the directory. The "done when": a client with a ticket signs in to the Entra WS-Fed
 * flow with no form and a token that says Windows; a user disabled after the ticket was issued
 * is refused.
 */
const EDGE_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0';
const realm = sambaKerberos();

async function sambaApp(): Promise<TestApp> {
  process.env.KRB5_CONFIG = realm.krb5Config;
  return startTestApp({
    federation: { internalNetworks: ['127.0.0.0/8'] },
    authn: { kerberos: { keytab: realm.keytab, servicePrincipal: 'HTTP/localhost', realms: [realm.realm] } },
    relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains: ['example.test'] }],
  }, { directoryConfig: sambaDirectoryConfig() });
}

const entraStart = `/adfs/ls/?${new URLSearchParams({ username: USERS.alice.upn, wa: 'wsignin1.0', wtrealm: 'urn:federation:MicrosoftOnline', wctx: 'estsredirect=2' })}`;

describe('Kerberos with the Samba AD KDC', () => {
  it('a domain user with a ticket signs in to Entra with no form; the token says Windows authentication', async () => {
    const t = await sambaApp();
    const ccache = await kinit(realm.krb5Config, `alice@${realm.realm}`, USERS.alice.password);
    const agent = request.agent(t.app);
    // As AD FS: Entra's redirect is answered with the Negotiate challenge itself.
    const challenge = await agent.get(entraStart).set('User-Agent', EDGE_ON_WINDOWS);
    expect(challenge.status).toBe(401);
    expect(challenge.headers['www-authenticate']).toBe('Negotiate');
    const token = await negotiateToken({ krb5Config: realm.krb5Config, ccache });
    const answered = await agent.get(entraStart).set('User-Agent', EDGE_ON_WINDOWS).set('Authorization', token.header);
    // The request repeated with the ticket is answered with the token page itself.
    expect(answered.status).toBe(200);
    await token.verifyServerToken(String(answered.headers['www-authenticate']));
    const verdict = validateLoginSrfPost(readAutopost(answered.text).fields, {
      domains: [{ name: 'example.test', issuerUri: 'http://example.test/adfs/services/trust/', signingCertificate: t.services.keys.current.certificateBase64 }],
      users: [{ upn: USERS.alice.upn, immutableId: sambaLdapsearch('(sAMAccountName=alice)', 'objectGUID') }],
    }, { wctx: 'estsredirect=2', sentAt: new Date() });
    expect(verdict.errors).toEqual([]);
    expect(verdict.claims?.authenticationMethod).toBe('http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/windows');
    await t.services.directory.close();
  });

  it('a user disabled in AD after the ticket was issued is refused, with the disabled message', async () => {
    const name = `kdis${process.pid % 10000}`;
    const password = `Passw0rd!${name}`;
    await createSambaUser(name, password);
    const ccache = await kinit(realm.krb5Config, `${name}@${realm.realm}`, password);
    // The service ticket is obtained now, while the account is enabled (Samba's KDC would refuse later).
    const token = await negotiateToken({ krb5Config: realm.krb5Config, ccache });
    await disableSambaUser(name);
    const t = await sambaApp();
    const agent = request.agent(t.app);
    // The form first (no user agent: no Negotiate offered); then the browser, as one Kerberos is
    // offered to, brings its ticket to /login for this pending sign-in.
    const { pending } = await formOf(agent, await agent.get('/signin'));
    const res = await agent.get(`/login?pending=${encodeURIComponent(pending)}`).set('User-Agent', EDGE_ON_WINDOWS).set('Authorization', token.header);
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your account has been disabled');
    expect(t.audits('signin.failure')).toEqual([expect.objectContaining({ method: 'kerberos', outcome: 'disabled' })]);
    expect(t.audits('signin.success')).toHaveLength(0);
    await t.services.directory.close();
  });
});
