import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { parseConfig, ConfigError } from '../../../src/config/load.js';
import { DEMO_USERS_FILE } from '../../../src/cli/embedded-demo.js';
import { loadProviderSecrets } from '../../../src/protocols/oidc/provider-secrets.js';
import { OIDC_CLIENTS, startOidcApp } from './oidc-harness.js';

const base = { server: { baseUrl: 'https://sts.example.com' }, directory: { type: 'file', path: DEMO_USERS_FILE } };
/** The configuration problems of a relying-party list (or [] when it loads). */
function problems(raw: Record<string, unknown>): string[] {
  try {
    parseConfig({ ...base, ...raw }, 'test', '/tmp', {});
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
}

async function rsaClientKey(kid: string) {
  const pair = await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
  return { privateKey: pair.privateKey, jwk: { ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

describe('OpenID Connect configuration', () => {
  it('an oidc client: a secret is required with client_secret_basic, refused with none; authorization_code needs a redirect URI', () => {
    expect(problems({ relyingParties: [{ protocol: 'oidc', identifier: 'a', tokenEndpointAuthMethod: 'client_secret_basic', replyUrls: ['https://a.test/cb'] }] }))
      .toEqual(['relyingParties.0.clientSecret: required with client_secret_basic']);
    expect(problems({ relyingParties: [{ protocol: 'oidc', identifier: 'a', clientSecret: 'x'.repeat(20), tokenEndpointAuthMethod: 'none', replyUrls: ['https://a.test/cb'] }] }))
      .toEqual(['relyingParties.0.clientSecret: not used with none: remove it']);
    expect(problems({ relyingParties: [{ protocol: 'oidc', identifier: 'a' }] }))
      .toEqual(['relyingParties.0.replyUrls: required: at least one redirect URI for authorization_code']);
    expect(problems({ relyingParties: [{ protocol: 'oidc', identifier: 'a', grantTypes: ['client_credentials'] }] }))
      .toEqual(['relyingParties.0.grantTypes: client_credentials needs a client that authenticates (a secret or private_key_jwt)']);
    expect(problems({ relyingParties: [{ protocol: 'oidc', identifier: 'a', replyUrls: ['https://a.test/cb'], idTokenSignedResponseAlg: 'HS256' }] })[0])
      .toMatch(/^relyingParties\.0\.idTokenSignedResponseAlg: /);
  });

  it('defaults: a public client without a secret, code + refresh, RS256, pairwise, consent asked; issuer {baseUrl}/oidc', () => {
    const config = parseConfig({ ...base, relyingParties: [{ protocol: 'oidc', identifier: 'spa', replyUrls: ['https://spa.test/cb'] }] }, 'test', '/tmp', {});
    expect(config.relyingParties[0]).toMatchObject({ tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code', 'refresh_token'], idTokenSignedResponseAlg: 'RS256', firstParty: false, requirePkce: true });
    expect(config.oidc).toMatchObject({ subjectType: 'pairwise', ttl: { accessToken: 3_600_000, refreshToken: 14 * 86_400_000 } });
    expect(config.oidc.claims.email).toEqual([{ claim: 'email', as: undefined }]);
  });

  it('a device-flow client must use public subjects', () => {
    const tv = { protocol: 'oidc', identifier: 'tv', grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'] };
    expect(problems({ relyingParties: [tv] })).toEqual(['relyingParties.0.subjectType: a device-flow client needs subjectType public']);
    expect(problems({ relyingParties: [{ ...tv, subjectType: 'public' }] })).toEqual([]);
    expect(problems({ oidc: { subjectType: 'public' }, relyingParties: [tv] })).toEqual([]);
  });

  it('oidc.issuer must be a path under server.baseUrl', () => {
    expect(problems({ oidc: { issuer: 'https://other.example.com/oidc' } })).toEqual(['oidc.issuer: a path under server.baseUrl, e.g. https://sts.example.com/oidc']);
    expect(problems({ oidc: { issuer: 'https://sts.example.com/' } })).toEqual(['oidc.issuer: a path under server.baseUrl, e.g. https://sts.example.com/oidc']);
    expect(problems({ oidc: { issuer: 'https://sts.example.com/openid' } })).toEqual([]);
  });

  it('the provider\'s cookie key and pairwise salt are generated once under dataDir/oidc, mode 0600, and kept', async () => {
    const app = await startOidcApp();
    for (const name of ['cookie-key', 'pairwise-salt']) {
      expect(statSync(join(app.t.config.dataDir, 'oidc', name)).mode & 0o777).toBe(0o600);
    }
    const again = loadProviderSecrets(app.t.config.oidc, app.t.config.dataDir);
    expect(again.cookieKeys).toEqual([readFileSync(join(app.t.config.dataDir, 'oidc', 'cookie-key'), 'utf8').trim()]);
    expect(again.pairwiseSalt).toBe(readFileSync(join(app.t.config.dataDir, 'oidc', 'pairwise-salt'), 'utf8').trim());
    expect(again.pairwiseSalt).toHaveLength(43);
    expect(loadProviderSecrets({ ...app.t.config.oidc, pairwiseSalt: 's'.repeat(32) }, app.t.config.dataDir).pairwiseSalt).toBe('s'.repeat(32));
  });

  it('private_key_jwt: a service authenticating with its own key gets a token; a JWT signed by another key is refused', async () => {
    const { privateKey, jwk } = await rsaClientKey('svc-1');
    const app = await startOidcApp({ relyingParties: [...OIDC_CLIENTS, { protocol: 'oidc', identifier: 'jwt-service', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] }, scopes: [] }] });
    const options = { execute: [client.allowInsecureRequests] };
    const service = await client.discovery(new URL(app.issuer), 'jwt-service', {}, client.PrivateKeyJwt({ key: privateKey, kid: 'svc-1' }), options);
    expect((await client.clientCredentialsGrant(service, {})).access_token).toBeTruthy();
    const other = await rsaClientKey('svc-1');
    const impostor = await client.discovery(new URL(app.issuer), 'jwt-service', {}, client.PrivateKeyJwt({ key: other.privateKey, kid: 'svc-1' }), options);
    await expect(client.clientCredentialsGrant(impostor, {})).rejects.toMatchObject({ error: 'invalid_client' });
  });
});

describe('OpenID Connect behind proxies', () => {
  it('URLs come from the configured issuer, never from a client\'s X-Forwarded-Host/-Proto', async () => {
    const app = await startOidcApp();
    const res = await fetch(`${app.issuer}/.well-known/openid-configuration`, { headers: { 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'https' } });
    const meta = await res.json() as Record<string, string>;
    expect(meta.issuer).toBe(app.issuer);
    expect(meta.token_endpoint).toBe(`${app.issuer}/token`);
    expect(meta.jwks_uri).toBe(`${app.issuer}/jwks`);
  });
});
