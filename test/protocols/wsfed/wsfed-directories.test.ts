import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { sambaDirectoryConfig, sambaLdapsearch, slapdDirectoryConfig } from '../../harness/directories.js';
import { startTestApp } from '../../harness/app.js';
import { EXPECTED_IMMUTABLE_ID, USERS } from '../../harness/users.js';
import { isSignInForm, openLoginForm } from '../../http/sign-in-flow.js';
import { validateLoginSrfPost } from '../../entra/login-srf.js';
import { assertionOf, readAutopost, xmlsec1Verifies } from './autopost.js';

/**
 * The Entra round trip against real directories: OpenLDAP slapd and Samba as an AD domain
 * controller. The ImmutableID in the token must be what the directory holds (§7).
 */
describe.each([
  ['OpenLDAP slapd', () => slapdDirectoryConfig(), () => EXPECTED_IMMUTABLE_ID.alice],
  ['Samba AD', () => sambaDirectoryConfig(), () => sambaLdapsearch('(sAMAccountName=alice)', 'objectGUID')],
])('WS-Fed for Entra against %s', (_name, directoryConfig, aliceImmutableId) => {
  it.each([['alice', USERS.alice], ['bob (mS-DS-ConsistencyGuid wins)', USERS.bob]])('%s signs in at /adfs/ls/ and the token passes the Entra checks, xmlsec1 and xml-crypto', async (_who, user) => {
    const t = await startTestApp({ relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains: ['example.test'] }] }, { directoryConfig: directoryConfig() });
    const agent = request.agent(t.app);
    const wctx = 'estsredirect=2&estsrequest=rQQIARAAhZE9';
    const start = `/adfs/ls/?${new URLSearchParams({ username: user.upn, wa: 'wsignin1.0', wtrealm: 'urn:federation:MicrosoftOnline', wctx })}`;
    const { pending, csrf } = await openLoginForm(agent, start);
    const posted = await agent.post('/login').type('form').send({ pending, csrf, UserName: user.upn, Password: user.password });
    // The form's POST is answered with the auto-post page itself.
    expect(posted.status, posted.text.slice(0, 300)).toBe(200);
    expect(isSignInForm(posted), 'the token page, not the form again').toBe(false);
    const form = readAutopost(posted.text);
    const immutableId = user === USERS.bob ? EXPECTED_IMMUTABLE_ID.bob : aliceImmutableId();
    const verdict = validateLoginSrfPost(form.fields, {
      domains: [{ name: 'example.test', issuerUri: 'http://example.test/adfs/services/trust/', signingCertificate: t.services.keys.current.certificateBase64 }],
      users: [{ upn: user.upn, immutableId }],
    }, { wctx, sentAt: new Date() });
    expect(verdict.errors).toEqual([]); // xml-crypto verified the signature inside the stand-in
    expect(verdict.user?.immutableId).toBe(immutableId);
    expect(xmlsec1Verifies(assertionOf(form.fields.wresult!), t.services.keys.current)).toBe(true);
    await t.services.directory.close();
  });
});
