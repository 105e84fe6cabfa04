import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { ALICE, Browser, discover, OIDC_CLIENTS, signInWithCode, startOidcApp, submitLogin, WEB_APP } from './oidc-harness.js';

const TV = { client_id: 'tv' };
const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

/** A relying party's back-channel logout endpoint: records the logout tokens it is sent. */
async function logoutReceiver() {
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      tokens.push(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel-logout`, tokens, close: () => server.close() };
}

/** Verifies a JWT against the provider's published JWKS (node:crypto only) and returns its payload. */
async function verifiedJwt(jwksUri: string, jwt: string): Promise<Record<string, unknown>> {
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; kid: string };
  const { keys } = await (await fetch(jwksUri)).json() as { keys: (JsonWebKey & { kid: string })[] };
  const jwk = keys.find((k) => k.kid === header.kid);
  expect(jwk, `kid ${header.kid} in the JWKS`).toBeDefined();
  expect(header.alg).toBe('RS256');
  expect(verify('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk!, format: 'jwk' }), Buffer.from(s, 'base64url'))).toBe(true);
  return JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
}

/** The web app signed in through the code flow, its back-channel logout URI the receiver's. */
async function signedInWithBackchannel(backchannelLogoutUri: string) {
  const clients = OIDC_CLIENTS.map((c) => c.identifier === WEB_APP.client_id ? { ...c, backchannelLogoutUri } : c);
  const app = await startOidcApp({ relyingParties: clients });
  const config = await discover(app, WEB_APP.client_id, WEB_APP.secret);
  const browser = new Browser(app.baseUrl);
  const { tokens } = await signInWithCode(app, browser, config, WEB_APP.redirect);
  return { app, config, browser, tokens, idToken: tokens.claims()! };
}

describe('OpenID Connect: device flow and back-channel logout', () => {
  it('device authorization: the person enters the code on fedgate\'s page, signs in, confirms; the device polls and gets tokens', async () => {
    const app = await startOidcApp({ relyingParties: [...OIDC_CLIENTS, { protocol: 'oidc', identifier: TV.client_id, displayName: 'Living-room TV', grantTypes: [DEVICE_CODE, 'refresh_token'], subjectType: 'public', firstParty: true }] });
    const tv = await discover(app, TV.client_id);
    const authorization = await client.initiateDeviceAuthorization(tv, { scope: 'openid profile offline_access' });
    expect(authorization.verification_uri).toBe(`${app.issuer}/device`);
    const browser = new Browser(app.baseUrl);
    const input = await browser.follow(authorization.verification_uri);
    expect(input.html).toContain('Enter the code shown on your device');
    const inputAction = /<form method="post" action="([^"]+)">/.exec(input.html)![1]!;
    const inputXsrf = /name="xsrf" value="([^"]+)"/.exec(input.html)![1]!;
    const confirm = await browser.follow(inputAction, { form: { xsrf: inputXsrf, user_code: authorization.user_code } });
    expect(confirm.html).toContain('Living-room TV');
    expect(confirm.html).toContain(authorization.user_code);
    const confirmAction = /<form method="post" action="([^"]+)">/.exec(confirm.html)![1]!;
    const confirmXsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)![1]!;
    const login = await browser.follow(confirmAction, { form: { xsrf: confirmXsrf, user_code: authorization.user_code, confirm: 'yes' } });
    const done = await submitLogin(browser, login, ALICE);
    expect(done.html).toContain('id="done"');
    const tokens = await client.pollDeviceAuthorizationGrant(tv, authorization);
    expect(tokens.claims()!.sub).toBe('a1b2c3d4-e5f6-4789-9abc-def012345678'); // subjectType public: the objectGUID
    expect(tokens.refresh_token).toBeTruthy();
    const info = await client.fetchUserInfo(tv, tokens.access_token, tokens.claims()!.sub);
    expect(info.name).toBe('Alice Anders');
  }, 20_000);

  it('back-channel logout: signing out through OpenID Connect sends the client a signed logout token for the session', async () => {
    const receiver = await logoutReceiver();
    try {
      const { app, config, browser, tokens, idToken } = await signedInWithBackchannel(receiver.url);
      expect(typeof idToken.sid).toBe('string');
      const page = await browser.follow(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: WEB_APP.logout }).href);
      const action = /<form method="post" action="([^"]+)" id="op.logoutForm">/.exec(page.html)![1]!;
      await browser.follow(action, { form: { xsrf: /name="xsrf" value="([^"]+)"/.exec(page.html)![1]!, logout: 'yes' } });
      expect(receiver.tokens).toHaveLength(1);
      const logout = await verifiedJwt(config.serverMetadata().jwks_uri!, receiver.tokens[0]!);
      expect(logout).toMatchObject({ iss: app.issuer, aud: WEB_APP.client_id, sub: idToken.sub, sid: idToken.sid,
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });
      expect(logout.nonce).toBeUndefined();
    } finally {
      receiver.close();
    }
  });

  it('back-channel logout: signing out on fedgate\'s own sign-out page (or anywhere but OIDC) sends the client its logout token too, once', async () => {
    const receiver = await logoutReceiver();
    try {
      const { app, config, browser, tokens, idToken } = await signedInWithBackchannel(receiver.url);
      const page = await browser.follow('/logout');
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)?.[1];
      expect(csrf).toBeTruthy();
      const done = await browser.follow('/logout', { form: { csrf: csrf! } });
      expect(done.html).toContain('signed out');
      // Sent beside the browser's sign-out, not before it: wait for it.
      for (let i = 0; i < 50 && receiver.tokens.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(receiver.tokens).toHaveLength(1);
      const logout = await verifiedJwt(config.serverMetadata().jwks_uri!, receiver.tokens[0]!);
      expect(logout).toMatchObject({ iss: app.issuer, aud: WEB_APP.client_id, sub: idToken.sub, sid: idToken.sid,
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });
      // The session is gone: signing out again tells nobody twice.
      await browser.follow('/logout', { form: { csrf: csrf! } });
      await new Promise((r) => setTimeout(r, 100));
      expect(receiver.tokens).toHaveLength(1);
    } finally {
      receiver.close();
    }
  });
});
