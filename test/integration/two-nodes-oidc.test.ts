import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServer, type RedisServer } from '../harness/redis.js';
import { startTwoNodes, type TwoNodes } from '../harness/two-nodes.js';
import { authorizationRequest, Browser, OIDC_CLIENTS, redeem, signInWithCode, WEB_APP, type OidcApp } from '../protocols/oidc/oidc-harness.js';

/**
 * OpenID Connect on two nodes behind one address: what oidc-provider keeps (its sessions,
 * interactions, codes, grants, refresh tokens) is in the shared Redis and its cookies are signed
 * with the shared keys, so a flow started on one node finishes on the other and single sign-on,
 * refresh and sign-out work across them. openid-client is the relying party.
 */
let redis: RedisServer;
let nodes: TwoNodes;
let server: Server;
let app: OidcApp;

beforeAll(async () => {
  redis = await redisServer();
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  nodes = await startTwoNodes(redis, { server: { baseUrl }, relyingParties: OIDC_CLIENTS });
  server.on('request', nodes.balancer);
  app = { t: nodes.a, baseUrl, issuer: `${baseUrl}/oidc` };
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await nodes.close();
  await redis.stop();
});

describe('two nodes on one Redis: OpenID Connect', () => {
  it('a code flow signed in on A is single sign-on on B; its code is redeemed on B and its refresh token on A', async () => {
    nodes.route('a');
    const config = await client.discovery(new URL(app.issuer), WEB_APP.client_id, {}, client.ClientSecretBasic(WEB_APP.secret), { execute: [client.allowInsecureRequests] });
    const browser = new Browser(app.baseUrl);
    const first = await signInWithCode(app, browser, config, WEB_APP.redirect, undefined, { scope: 'openid profile offline_access', prompt: 'consent' });
    expect(first.tokens.claims()!.sub).toBeTruthy();

    // Node B answers prompt=none from the session made on A: no form, a code at once.
    nodes.route('b');
    const start = await authorizationRequest(config, WEB_APP.redirect, { prompt: 'none' });
    const step = await browser.follow(start.url.href);
    expect(step.left?.searchParams.get('code'), step.html.slice(0, 300)).toBeTruthy();
    const second = await redeem(config, start, step.left!);
    expect(second.claims()!.sub).toBe(first.tokens.claims()!.sub);

    // The refresh token A issued is redeemed on B, and B's access token is accepted by A.
    const refreshed = await client.refreshTokenGrant(config, first.tokens.refresh_token!);
    expect(refreshed.access_token).toBeTruthy();
    nodes.route('a');
    const info = await client.fetchUserInfo(config, refreshed.access_token, first.tokens.claims()!.sub);
    expect(info.sub).toBe(first.tokens.claims()!.sub);
  });

  it('signing out on B ends single sign-on on A: prompt=none there is login_required', async () => {
    nodes.route('a');
    const config = await client.discovery(new URL(app.issuer), WEB_APP.client_id, {}, client.ClientSecretBasic(WEB_APP.secret), { execute: [client.allowInsecureRequests] });
    const browser = new Browser(app.baseUrl);
    await signInWithCode(app, browser, config, WEB_APP.redirect);
    nodes.route('b');
    const page = await browser.follow('/logout');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)?.[1];
    expect(csrf).toBeTruthy();
    await browser.follow('/logout', { form: { csrf: csrf! } });
    nodes.route('a');
    const silent = await browser.follow((await authorizationRequest(config, WEB_APP.redirect, { prompt: 'none' })).url.href);
    expect(silent.left?.searchParams.get('error')).toBe('login_required');
  });
});
