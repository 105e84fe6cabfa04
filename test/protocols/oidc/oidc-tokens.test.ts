import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { Browser, discover, SERVICE, signInWithCode, SPA, startOidcApp, WEB_APP } from './oidc-harness.js';

describe('OpenID Connect: tokens', () => {
  it('refresh: offline_access gives a refresh token; each refresh rotates it and the used one is refused', async () => {
    const app = await startOidcApp();
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const { tokens } = await signInWithCode(app, new Browser(app.baseUrl), config, WEB_APP.redirect, undefined, { scope: 'openid profile offline_access', prompt: 'consent' });
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()!.sub).toBe(tokens.claims()!.sub);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Reuse of a rotated token revokes the grant: the newest one stops working too.
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('refresh: no refresh token without offline_access', async () => {
    const app = await startOidcApp();
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const { tokens } = await signInWithCode(app, new Browser(app.baseUrl), config, WEB_APP.redirect);
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('client_credentials: a service gets an access token; introspection says active for its client; revocation ends it', async () => {
    const app = await startOidcApp();
    const service = await discover(app, SERVICE.client_id, SERVICE.secret);
    const token = await client.clientCredentialsGrant(service, {});
    expect(token.token_type.toLowerCase()).toBe('bearer');
    expect(token.id_token).toBeUndefined();
    const active = await client.tokenIntrospection(service, token.access_token);
    expect(active).toMatchObject({ active: true, client_id: SERVICE.client_id });
    await client.tokenRevocation(service, token.access_token);
    expect((await client.tokenIntrospection(service, token.access_token)).active).toBe(false);
  });

  it('client_credentials: a wrong secret is invalid_client', async () => {
    const app = await startOidcApp();
    const service = await discover(app, SERVICE.client_id, 'not-the-secret-0123456789');
    await expect(client.clientCredentialsGrant(service, {})).rejects.toMatchObject({ status: 401, cause: [{ scheme: 'basic', parameters: { error: 'invalid_client' } }] });
  });

  it('userinfo, introspection and revocation of a user access token', async () => {
    const app = await startOidcApp();
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const { tokens } = await signInWithCode(app, new Browser(app.baseUrl), config, WEB_APP.redirect, undefined, { scope: 'openid email groups' });
    const sub = tokens.claims()!.sub;
    const info = await client.fetchUserInfo(config, tokens.access_token, sub);
    expect(info).toMatchObject({ sub, email: 'alice@demo.fedgate.test', groups: expect.arrayContaining(['engineers', 'staff']) });
    expect(info.name).toBeUndefined(); // profile was not asked for
    const introspected = await client.tokenIntrospection(config, tokens.access_token);
    expect(introspected).toMatchObject({ active: true, client_id: WEB_APP.client_id, sub, scope: 'openid email groups' });
    await client.tokenRevocation(config, tokens.access_token);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    await expect(client.fetchUserInfo(config, tokens.access_token, sub)).rejects.toBeTruthy();
  });

  it('revoking an access token revokes every token of its grant issued so far; the grant stays, and the next sign-on\'s tokens work', async () => {
    const app = await startOidcApp();
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const browser = new Browser(app.baseUrl);
    const first = await signInWithCode(app, browser, config, WEB_APP.redirect, undefined, { scope: 'openid offline_access', prompt: 'consent' });
    const second = await signInWithCode(app, browser, config, WEB_APP.redirect, undefined, { scope: 'openid offline_access' });
    expect((await client.tokenIntrospection(config, first.tokens.access_token)).active).toBe(true);
    await client.tokenRevocation(config, second.tokens.access_token);
    for (const token of [first.tokens.access_token, second.tokens.access_token]) expect((await client.tokenIntrospection(config, token)).active).toBe(false);
    await expect(client.refreshTokenGrant(config, first.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const third = await signInWithCode(app, browser, config, WEB_APP.redirect, undefined, { scope: 'openid offline_access', prompt: 'consent' });
    expect((await client.tokenIntrospection(config, third.tokens.access_token)).active).toBe(true);
    expect((await client.refreshTokenGrant(config, third.tokens.refresh_token!)).access_token).toBeTruthy();
  });

  it('a public client must use PKCE: an authorization request without a code_challenge is refused at its redirect URI', async () => {
    const app = await startOidcApp();
    const spa = await discover(app, SPA.client_id);
    const url = client.buildAuthorizationUrl(spa, { redirect_uri: SPA.redirect, scope: 'openid', state: 'st' });
    const step = await new Browser(app.baseUrl).follow(url.href);
    expect(step.left?.origin).toBe('https://spa.test');
    expect(step.left?.searchParams.get('error')).toBe('invalid_request');
    expect(step.left?.searchParams.get('state')).toBe('st');
  });
});
