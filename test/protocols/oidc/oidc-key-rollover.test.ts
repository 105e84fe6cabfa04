import { renameSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedKeyPaths, writeGeneratedKey } from '../../../src/keys/key-store.js';
import { Browser, discover, signInWithCode, startOidcApp, WEB_APP } from './oidc-harness.js';

/**
 * A key rollover done while fedgate runs (`fedgate keys next`, then `promote`, on this node or
 * another; key-watch.ts reloads the store) reaches OpenID Connect too: ID tokens are then signed
 * with the new current key, which the JWKS lists, beside the previous key for tokens signed a
 * moment before. openid-client checks each ID token against the JWKS it fetches.
 */
const kidOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

describe('OpenID Connect after a key rollover', () => {
  it('signs ID tokens with the promoted key and keeps the previous one in the JWKS for one ID-token lifetime', async () => {
    const app = await startOidcApp({ oidc: { ttl: { idToken: '3s' } } });
    const { keys } = app.t.services;
    const jwksKids = async () => ((await (await fetch(`${app.issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    const browser = new Browser(app.baseUrl);
    const first = await signInWithCode(app, browser, await discover(app, WEB_APP.client_id, WEB_APP.secret), WEB_APP.redirect);
    const before = kidOf(first.tokens.id_token!);
    expect(await jwksKids()).toContain(before);

    // keys next: published beside the current one, not used to sign yet.
    const dataDir = app.t.config.dataDir;
    await writeGeneratedKey(dataDir, 'next', '127.0.0.1', 30 * 86_400_000);
    expect(keys.reload()).toBe(true);
    const during = await signInWithCode(app, browser, await discover(app, WEB_APP.client_id, WEB_APP.secret), WEB_APP.redirect);
    expect(kidOf(during.tokens.id_token!)).toBe(before);
    const published = await jwksKids();
    expect(published).toContain(before);
    expect(published.length).toBeGreaterThanOrEqual(3); // current, next (RS256) and the ES256 key

    // keys promote: next becomes current.
    renameSync(generatedKeyPaths(dataDir, 'next').keyFile, generatedKeyPaths(dataDir, 'current').keyFile);
    renameSync(generatedKeyPaths(dataDir, 'next').certFile, generatedKeyPaths(dataDir, 'current').certFile);
    expect(keys.reload()).toBe(true);
    // A fresh client configuration: openid-client fetches the JWKS again and checks the token with it.
    const after = await signInWithCode(app, browser, await discover(app, WEB_APP.client_id, WEB_APP.secret), WEB_APP.redirect);
    const promoted = kidOf(after.tokens.id_token!);
    expect(promoted).not.toBe(before);
    expect(published).toContain(promoted);
    expect(await jwksKids()).toEqual(expect.arrayContaining([promoted, before]));
    // The provider was rebuilt, not its state lost: the earlier refresh-less access token still works at userinfo.
    expect((await fetch(`${app.issuer}/me`, { headers: { authorization: `Bearer ${during.tokens.access_token}` } })).status).toBe(200);
    expect(app.t.logs().some((l) => l.msg === 'oidc: signing keys changed; the provider now signs with the current key')).toBe(true);
    // One ID-token lifetime later the replaced key is gone (a key replaced because it leaked must stop being accepted).
    await expect.poll(jwksKids, { timeout: 8_000, interval: 250 }).not.toContain(before);
    expect(await jwksKids()).toContain(promoted);
  });
});
