import { createPublicKey } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { generatedKeyPaths, writeGeneratedKey } from '../../../src/keys/key-store.js';
import { ALICE, Browser, discover, signInWithCode, SPA, startOidcApp, WEB_APP } from './oidc-harness.js';

describe('OpenID Connect: discovery and the authorization code flow', () => {
  it('discovery: issuer {baseUrl}/oidc with the endpoints, algorithms and scopes fedgate serves', async () => {
    const app = await startOidcApp();
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(app.issuer);
    expect(meta.authorization_endpoint).toBe(`${app.issuer}/auth`);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', 'ES256']));
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access', 'groups']));
    expect(meta.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']));
    for (const endpoint of ['introspection_endpoint', 'revocation_endpoint', 'end_session_endpoint', 'userinfo_endpoint', 'device_authorization_endpoint'] as const) {
      expect(meta[endpoint]).toMatch(new RegExp(`^${app.issuer}/`));
    }
    const jwks = await (await fetch(meta.jwks_uri!)).json() as { keys: { kty: string; alg: string; d?: string }[] };
    expect(jwks.keys.map((k) => k.alg)).toEqual(expect.arrayContaining(['RS256', 'ES256']));
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
  });

  it('code + PKCE: the form signs alice in; openid-client checks state, nonce, PKCE and the RS256 ID token (pairwise sub)', async () => {
    const app = await startOidcApp();
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const browser = new Browser(app.baseUrl);
    const { tokens, callback } = await signInWithCode(app, browser, config, WEB_APP.redirect);
    expect(callback.origin + callback.pathname).toBe(WEB_APP.redirect);
    expect(callback.searchParams.get('iss')).toBe(app.issuer);
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(app.issuer);
    expect(claims.aud).toBe(WEB_APP.client_id);
    expect(claims.sub).not.toBe('a1b2c3d4-e5f6-4789-9abc-def012345678');
    expect(claims.amr).toEqual(['pwd']); // RFC 8176: a password, and nothing more
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(userinfo).toMatchObject({ sub: claims.sub, name: 'Alice Anders', given_name: 'Alice', family_name: 'Anders', email: ALICE.login, preferred_username: ALICE.login });
    expect(app.t.audits('signin.success')).toHaveLength(1);
    // Logged per request, and no token or code ever is.
    expect(app.t.logs().some((l) => l.msg === 'oidc: tokens issued' && l.client === WEB_APP.client_id && l.grantType === 'authorization_code')).toBe(true);
    for (const secret of [tokens.access_token, tokens.id_token!, callback.searchParams.get('code')!, WEB_APP.secret]) expect(app.t.logText()).not.toContain(secret);
  });

  it('ES256: a client registered for ES256 gets an ES256 ID token openid-client verifies; its sub differs from another client', async () => {
    const app = await startOidcApp();
    const browser = new Browser(app.baseUrl);
    const web = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const first = await signInWithCode(app, browser, web, WEB_APP.redirect);
    const spa = await discover(app, SPA.client_id, undefined, { id_token_signed_response_alg: 'ES256' });
    const { tokens } = await signInWithCode(app, browser, spa, SPA.redirect);
    const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString()) as { alg: string; kid: string };
    expect(header.alg).toBe('ES256');
    expect(header.kid).toBe(app.t.services.keys.ec.kid);
    expect(tokens.claims()!.sub).not.toBe(first.tokens.claims()!.sub);
    // One sign-in for both: the second application was answered from the session.
    expect(app.t.audits('signin.success')).toHaveLength(1);
  });

  it('keys: the JWKS publishes the current RSA key, the next one (rollover) and the EC key; ID tokens are signed with the current', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedgate-next-'));
    await writeGeneratedKey(dir, 'next', '127.0.0.1', 86_400_000);
    const next = generatedKeyPaths(dir, 'next');
    const app = await startOidcApp({ signing: { next: { keyFile: next.keyFile, certFile: next.certFile } } });
    const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
    const jwks = await (await fetch(config.serverMetadata().jwks_uri!)).json() as { keys: { kid: string; alg: string; n?: string }[] };
    const keys = app.t.services.keys;
    const modulus = (k: typeof keys.current) => createPublicKey(k.privateKey).export({ format: 'jwk' }).n;
    expect(jwks.keys.filter((k) => k.alg === 'RS256').map((k) => k.n)).toEqual([modulus(keys.current), modulus(keys.next!)]);
    expect(jwks.keys.filter((k) => k.alg === 'ES256').map((k) => k.kid)).toEqual([keys.ec.kid]);
    const { tokens } = await signInWithCode(app, new Browser(app.baseUrl), config, WEB_APP.redirect);
    const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString()) as { kid: string };
    expect(jwks.keys.find((k) => k.kid === header.kid)?.n).toBe(modulus(keys.current));
  });
});
