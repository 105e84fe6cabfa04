import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../harness/app.js';
import { ALICE, authorizeRedirect, pathOf, samlSp, unsignedSpClient } from '../protocols/saml/sp-client.js';
import { OIDC_CLIENTS, WEB_APP } from '../protocols/oidc/oidc-harness.js';
import { signIn } from './sign-in-flow.js';

/**
 * A HEAD (a link checker, a prefetch) must not spend what the person's own GET needs: the
 * endpoints that issue tokens or take one-shot state refuse it (405, Allow: GET, POST); the GET
 * that follows is answered as if the HEAD had not been.
 */
describe('HEAD requests', () => {
  it('are refused where a token is issued or one-shot state is taken, and spend nothing', async () => {
    const SP = samlSp('sp-head');
    const t = await startTestApp({ relyingParties: [SP.config, { protocol: 'wsfed', profile: 'entra', domains: ['demo.fedgate.test'] }, ...OIDC_CLIENTS] });
    const { agent } = await signIn(t.app, ALICE.login, ALICE.password);
    const saml = pathOf(await authorizeRedirect(unsignedSpClient(t, SP), 'head'));
    const wsfed = `/adfs/ls/?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: 'urn:federation:MicrosoftOnline' })}`;
    const oidc = `/oidc/auth?${new URLSearchParams({ client_id: WEB_APP.client_id, redirect_uri: WEB_APP.redirect, response_type: 'code', scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`;
    for (const path of [saml, wsfed, '/wsfed?wa=wsignin1.0', '/saml/resume?pending=x', '/adfs/ls/resume?pending=x', '/signin/resume?pending=x', '/login?pending=x', '/signin', '/oidc/interaction/x', '/oidc/interaction/x/signed-in?pending=x', oidc]) {
      const head = await agent.head(path);
      expect(head.status, path).toBe(405);
      expect(head.headers.allow).toBe('GET, POST');
    }
    const issued = t.logs().filter((l) => /token issued|response issued/.test(String(l.msg))).length;
    expect(issued).toBe(0);
    // The GETs that follow are answered: the AuthnRequest ID was not used up.
    expect((await agent.get(saml)).text).toContain('name="SAMLResponse"');
    expect((await agent.get(wsfed)).text).toContain('name="wresult"');
    // Elsewhere HEAD is HEAD.
    expect((await request(t.app).head('/healthz')).status).toBe(200);
  });
});
