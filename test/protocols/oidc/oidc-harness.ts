import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { afterAll, expect } from 'vitest';
import { startTestApp, type TestApp } from '../../harness/app.js';

/**
 * fedgate over real HTTP for OpenID Connect tests: the app listens on 127.0.0.1 (its baseUrl is
 * that address, so the issuer is what openid-client, an independent relying party, discovers),
 * and a Browser (fetch with a cookie jar, redirects followed by hand) plays the person.
 */
export const WEB_APP = { client_id: 'web-app', secret: 'web-app-secret-0123456789', redirect: 'https://web.test/callback', logout: 'https://web.test/signed-out' };
export const SPA = { client_id: 'spa', redirect: 'https://spa.test/callback' };
export const THIRD_PARTY = { client_id: 'partner', secret: 'partner-secret-0123456789', redirect: 'https://partner.test/cb' };
export const SERVICE = { client_id: 'service', secret: 'service-secret-0123456789' };
export const ALICE = { login: 'alice@demo.fedgate.test', password: 'Demo-alice-1' };
export const BOB = { login: 'bob@demo.fedgate.test', password: 'Demo-bob-1' };

export const OIDC_CLIENTS = [
  { protocol: 'oidc', identifier: WEB_APP.client_id, displayName: 'Web App', clientSecret: WEB_APP.secret, firstParty: true,
    replyUrls: [WEB_APP.redirect], postLogoutRedirectUris: [WEB_APP.logout], scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'] },
  { protocol: 'oidc', identifier: SPA.client_id, displayName: 'Single-page App', firstParty: true, replyUrls: [SPA.redirect], idTokenSignedResponseAlg: 'ES256' },
  { protocol: 'oidc', identifier: THIRD_PARTY.client_id, displayName: 'Partner <App>', clientSecret: THIRD_PARTY.secret, replyUrls: [THIRD_PARTY.redirect] },
  { protocol: 'oidc', identifier: SERVICE.client_id, clientSecret: SERVICE.secret, grantTypes: ['client_credentials'], scopes: [] },
];

export interface OidcApp {
  readonly t: TestApp;
  readonly baseUrl: string;
  readonly issuer: string;
}

const servers: Server[] = [];
afterAll(async () => { await Promise.all(servers.map((s) => new Promise((r) => s.close(r)))); });

export async function startOidcApp(extra: Record<string, unknown> = {}): Promise<OidcApp> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const t = await startTestApp({ server: { baseUrl }, relyingParties: OIDC_CLIENTS, ...extra });
  server.on('request', t.app);
  return { t, baseUrl, issuer: `${baseUrl}/oidc` };
}

export async function discover(app: OidcApp, clientId: string, secret?: string, metadata: Partial<client.ClientMetadata> = {}): Promise<client.Configuration> {
  return client.discovery(new URL(app.issuer), clientId, { ...metadata },
    secret ? client.ClientSecretBasic(secret) : client.None(), { execute: [client.allowInsecureRequests] });
}

interface BrowserRequest {
  readonly method?: string;
  readonly form?: Record<string, string>;
  /** Sent with this request only (e.g. the Authorization a Negotiate challenge asked for). */
  readonly headers?: Record<string, string>;
}

/** A browser: a cookie jar (one host) and redirects followed by hand, stopping outside fedgate. */
export class Browser {
  private readonly jar = new Map<string, string>();
  /** @param userAgent sent with every request, as a browser sends its own */
  constructor(readonly baseUrl: string, private readonly userAgent?: string) {}

  async request(url: string, init: BrowserRequest = {}): Promise<Response> {
    const absolute = new URL(url, this.baseUrl);
    const headers: Record<string, string> = { ...(this.userAgent ? { 'user-agent': this.userAgent } : {}), ...init.headers };
    if (this.jar.size > 0) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(absolute, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now()));
      if (expired || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }

  /**
   * Follows redirects (and oidc-provider's auto-submitted forms) from `url` while they stay on
   * fedgate. Ends at a redirect elsewhere ({ left: URL }) or a page ({ page: Response, html }).
   */
  async follow(url: string, init: BrowserRequest = {}): Promise<{ left?: URL; page?: Response; html: string; url: string; posted?: Record<string, string> }> {
    let res = await this.request(url, init);
    let current = new URL(url, this.baseUrl).href;
    for (let hops = 0; hops < 20; hops++) {
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, current);
        if (next.origin !== new URL(this.baseUrl).origin) return { left: next, html: '', url: current };
        current = next.href;
        res = await this.request(current);
        continue;
      }
      const html = await res.text();
      // A page that moves on by itself (fedgate's continue page after a form).
      const refresh = /^0;\s*url=(.+)$/i.exec(res.headers.get('refresh') ?? '');
      if (res.status === 200 && refresh) {
        const next = new URL(refresh[1]!, current);
        if (next.origin !== new URL(this.baseUrl).origin) return { left: next, html, url: current };
        current = next.href;
        res = await this.request(current);
        continue;
      }
      const autopost = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html);
      if (res.status === 200 && html.includes('document.forms[0].submit()') && autopost) {
        const fields = Object.fromEntries([...autopost[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, decode(m[2]!)]));
        const target = new URL(decode(autopost[1]!), current);
        if (target.origin !== new URL(this.baseUrl).origin) return { left: target, page: res, html, url: current, posted: fields };
        current = target.href;
        res = await this.request(current, { form: fields });
        continue;
      }
      return { page: res, html, url: current };
    }
    throw new Error('too many redirects');
  }

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }
}

const decode = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

export function hidden(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no hidden field ${name} in page:\n${html.slice(0, 2000)}`);
  return decode(m[1]!);
}

/** Fills in the sign-in form the browser is on; follows on. */
export async function submitLogin(browser: Browser, page: { html: string }, user: { login: string; password: string }) {
  expect(page.html).toContain('name="Password"');
  return browser.follow('/login', { form: { pending: hidden(page.html, 'pending'), csrf: hidden(page.html, 'csrf'), UserName: user.login, Password: user.password } });
}

export interface AuthorizationStart {
  readonly url: URL;
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
}

export async function authorizationRequest(config: client.Configuration, redirectUri: string, params: Record<string, string> = {}): Promise<AuthorizationStart> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: 'openid profile email', code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256', state, nonce, ...params,
  });
  return { url, verifier, state, nonce };
}

/** The relying party's half: code for tokens, state, nonce, PKCE and the ID token checked by openid-client. */
export async function redeem(config: client.Configuration, start: AuthorizationStart, callback: URL) {
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: start.verifier, expectedState: start.state, expectedNonce: start.nonce, idTokenExpected: true });
}

/** Code flow with a sign-in at the form: returns the tokens. */
export async function signInWithCode(app: OidcApp, browser: Browser, config: client.Configuration, redirectUri: string, user = ALICE, params: Record<string, string> = {}) {
  const start = await authorizationRequest(config, redirectUri, params);
  let step = await browser.follow(start.url.href);
  if (!step.left) {
    // The interaction answers with the form itself (no hop to /login).
    expect(step.url).toContain('/oidc/interaction/');
    step = await submitLogin(browser, step, user);
  }
  if (!step.left) throw new Error(`no redirect back to the application: ${step.page?.status} ${step.html.slice(0, 500)}`);
  return { start, callback: step.left, tokens: await redeem(config, start, step.left) };
}
