import type { ShowSignIn } from '../../authn/sign-in-steps.js';
import { createHmac } from 'node:crypto';
import { Router, type Response } from 'express';
import Provider, { type Configuration, type errors, type Grant, type KoaContextWithOIDC } from 'oidc-provider';
import type { SignInPipeline } from '../../authn/sign-in-pipeline.js';
import { IdpError } from '../../core/errors.js';
import { oidcIssuer, type Config, type OidcRelyingPartyConfig } from '../../config/schema.js';
import { requestContext } from '../../http/request-context.js';
import type { RenderPage } from '../../http/render.js';
import type { SessionCookie } from '../../http/session-cookie.js';
import { pickMessages, type MessageKey } from '../../i18n/messages.js';
import { signingJwks, type KeyStore } from '../../keys/key-store.js';
import type { Logger } from '../../observability/logger.js';
import type { StateStore } from '../../state/state-store.js';
import type { Sessions } from '../../session/sessions.js';
import type { SignOut } from '../saml/single-logout.js';
import { createAccountCache, scopeClaims } from './accounts.js';
import { clientMetadataOf } from './clients.js';
import { interactionPath, interactionRoutes } from './interaction-routes.js';
import type { ProviderPage } from './provider-pages.js';
import { allowFormTarget, providerPageHooks } from './provider-page-hooks.js';
import { loadProviderSecrets } from './provider-secrets.js';
import { trackBackchannelLogout, type BackchannelLogout } from './backchannel-logout.js';
import { expressRequest, interactionPolicyWithSso } from './sso-check.js';
import { createStateAdapterClass } from './state-adapter.js';

/**
 * The OpenID Connect provider: oidc-provider mounted at the issuer's path, wired to fedgate's
 * key store (RS256 current + next, ES256), state store (every artefact), claims pipeline
 * (findAccount from the principal cached at sign-in), sign-in pipeline (interactions, the SSO
 * check) and pages (consent, sign-out, errors that cannot go to a registered redirect URI).
 */
export interface OidcRouteDeps {
  readonly config: Config;
  readonly keys: KeyStore;
  readonly store: StateStore;
  readonly pipeline: SignInPipeline;
  readonly sessions: Sessions;
  readonly cookie: SessionCookie;
  readonly render: RenderPage;
  readonly pages: ProviderPage;
  readonly log: Logger;
  readonly secure: boolean;
  /** fedgate's one sign-out (single-logout.ts), for a sign-out confirmed through OpenID Connect. */
  readonly signOut: SignOut;
  /** The sign-in form, answered at the interaction itself (sign-in-steps.ts). */
  readonly showSignIn: ShowSignIn;
}

export interface OidcRoutes {
  /** The issuer's path, where the router is mounted (/oidc). */
  readonly mountPath: string;
  readonly router: Router;
  readonly provider: Provider;
  /** Back-channel logout of the session's OIDC clients when fedgate's session ends elsewhere. */
  readonly backchannel: BackchannelLogout;
}

const seconds = (ms: number) => Math.max(1, Math.floor(ms / 1000));

/** The error page for what oidc-provider cannot send to a registered redirect URI. */
function errorMessage(ctx: KoaContextWithOIDC, error: string, description: string | undefined): string {
  const t = pickMessages(ctx.get('accept-language'));
  if (/redirect_uri/.test(description ?? '')) return t.error_unregistered_reply_url;
  if (error === 'invalid_client') return t.error_unknown_application;
  if (error === 'invalid_request' && /expired|not found/i.test(description ?? '')) return t.error_signin_expired;
  return t.error_bad_request;
}

export function oidcRoutes(deps: OidcRouteDeps): OidcRoutes {
  const { config, log } = deps;
  const issuer = oidcIssuer(config);
  const mountPath = new URL(issuer).pathname;
  const rps = config.relyingParties.filter((rp): rp is OidcRelyingPartyConfig => rp.protocol === 'oidc');
  const clients = new Map(rps.map((rp) => [rp.identifier, rp]));
  const secrets = loadProviderSecrets(config.oidc, config.dataDir);
  const claims = scopeClaims(config.oidc);
  const ttl = config.oidc.ttl;
  const accounts = createAccountCache(deps.store, claims, Math.max(config.session.lifetime, config.session.keepMeSignedInLifetime, ttl.refreshToken),
    config.directory.type === 'ldap' ? config.directory.netbiosDomain : undefined);

  /** First-party clients get every requested scope without a consent page. */
  const loadExistingGrant = async (ctx: KoaContextWithOIDC): Promise<Grant | undefined> => {
    const { oidc } = ctx;
    const client = oidc.client;
    const session = oidc.session;
    if (!client || !session) return undefined;
    const grantId = oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
    const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!clients.get(client.clientId)?.firstParty || !session.accountId) return existing;
    const scopes = [...oidc.requestParamOIDCScopes];
    const claims = [...oidc.requestParamClaims];
    // Saved only when the request asks for more than the grant holds: a write per sign-on costs.
    if (existing && existing.getOIDCScopeFiltered(scopes).split(' ').filter(Boolean).length === scopes.length
      && existing.getOIDCClaimsFiltered(claims).length === claims.length) return existing;
    const grant = existing ?? new oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope(scopes.join(' '));
    grant.addOIDCClaims(claims);
    await grant.save();
    return grant;
  };

  const pageHooks = providerPageHooks(deps.pages, clients);
  const configuration: Omit<Configuration, 'jwks'> = {
    adapter: createStateAdapterClass(deps.store),
    clients: rps.map((rp) => clientMetadataOf(rp, config.oidc)),
    findAccount: accounts.findAccount,
    cookies: {
      keys: secrets.cookieKeys,
      names: { session: 'fedgate_oidc_session', interaction: 'fedgate_oidc_interaction', resume: 'fedgate_oidc_resume' },
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    // amr (RFC 8176) with every ID token, as Entra and AD FS send it: how the person signed in, pwd
    // or wia (Windows integrated: Kerberos); never a method (MFA) that was not used.
    claims: { openid: ['sub', 'amr'], sid: null, auth_time: null, acr: null, ...Object.fromEntries(Object.entries(claims.byScope).map(([s, names]) => [s, [...names]])) },
    scopes: ['openid', 'offline_access', ...Object.keys(claims.byScope)],
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: (_ctx, accountId, client) => createHmac('sha256', secrets.pairwiseSalt).update(`${client.clientId}\n${accountId}`).digest('base64url'),
    sectorIdentifierUriValidate: () => false,
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' || clients.get(client.clientId)?.requirePkce !== false },
    responseTypes: ['code', 'none'],
    allowOmittingSingleRegisteredRedirectUri: false,
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true, ...pageHooks.deviceFlow },
      introspection: {
        enabled: true,
        // A client introspects its own tokens; a confidential one (a resource server) any.
        allowedPolicy: async (_ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === client.clientId,
      },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, ...pageHooks.rpInitiatedLogout },
      backchannelLogout: { enabled: true },
    },
    interactions: {
      policy: interactionPolicyWithSso({ pipeline: deps.pipeline, cookie: deps.cookie, accounts, loadExistingGrant }),
      url: (_ctx, interaction) => `${mountPath}${interactionPath(interaction.uid)}`,
    },
    loadExistingGrant,
    // Every URL the provider fetches is configured here (back-channel logout URIs; request_uri,
    // jwks_uri and sector fetches are off), so oidc-provider's block of private and loopback
    // addresses would only stop back-channel logout to applications inside the network.
    fetch: (url, options) => {
      const { dispatcher: _ssrfGuard, ...rest } = options as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, rest);
    },
    rotateRefreshToken: true,
    ttl: {
      AccessToken: seconds(ttl.accessToken),
      IdToken: seconds(ttl.idToken),
      RefreshToken: seconds(ttl.refreshToken),
      AuthorizationCode: seconds(ttl.authorizationCode),
      ClientCredentials: seconds(ttl.clientCredentials),
      DeviceCode: seconds(ttl.deviceCode),
      Interaction: seconds(config.signIn.pendingLifetime),
      Session: seconds(Math.max(config.session.lifetime, config.session.keepMeSignedInLifetime)),
      Grant: seconds(Math.max(ttl.refreshToken, config.session.lifetime)),
    },
    renderError: async (ctx, out, error) => {
      expressRequest(ctx).log.warn({ error: out.error, detail: out.error_description, err: error instanceof Error ? error.message : undefined }, 'oidc: error page');
      // The state store down (Redis) or full (memory): its own 503 page, not "could not be understood".
      const unavailable = error instanceof IdpError && error.status === 503 ? error : undefined;
      if (unavailable) ctx.status = 503;
      else if (ctx.status < 400) ctx.status = 400;
      ctx.type = 'html';
      const message = unavailable ? pickMessages(ctx.get('accept-language'))[`error_${unavailable.code}` as MessageKey] ?? unavailable.message : errorMessage(ctx, out.error, out.error_description);
      ctx.body = deps.pages(ctx, 'error', { message, code: unavailable?.code ?? out.error });
    },
  };

  /** A provider with these keys, and what hangs on it: events, the sign-out hook, its routes, back-channel logout. */
  const build = (jwks: ReturnType<typeof signingJwks>) => {
    const provider = new Provider(issuer, { ...configuration, jwks: jwks as Configuration['jwks'] });
    // oidc-provider builds its URLs from the request (Koa's view of it). fedgate's public URL is
    // configured, and Express alone decides (server.trustProxy) which client address to believe:
    // the router below states both to Koa, overwriting whatever a client sent in these headers.
    provider.proxy = true;
    provider.proxyIpHeader = 'x-fedgate-client-ip';
    provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
      // The state store down (Redis): the JSON endpoints (token, userinfo, introspection, revocation)
      // answer 503 with Retry-After, so clients retry rather than give up on a "server_error" 500.
      // Pages already got the 503 page from renderError. Told here, while the response is being written.
      if (err instanceof IdpError && err.status === 503) {
        log.warn({ code: err.code, detail: err.detail, path: ctx.path }, 'oidc: state store unavailable');
        if (typeof ctx.body === 'object' && ctx.body !== null) {
          ctx.status = 503;
          ctx.set('Retry-After', '30');
          ctx.body = { error: 'temporarily_unavailable', error_description: err.message };
        }
        return;
      }
      log.error({ err }, 'oidc: server error');
    });
    // What happened, per request (never a token): issued, refused, and why.
    const clientOf = (ctx: KoaContextWithOIDC) => ctx.oidc?.client?.clientId;
    provider.on('grant.success', (ctx: KoaContextWithOIDC) =>
      expressRequest(ctx).log.info({ client: clientOf(ctx), grantType: ctx.oidc.params?.grant_type }, 'oidc: tokens issued'));
    const refused = (event: string) => (ctx: KoaContextWithOIDC, err: errors.OIDCProviderError) =>
      expressRequest(ctx).log.warn({ client: clientOf(ctx), error: err.error, detail: err.error_description }, `oidc: ${event}`);
    provider.on('grant.error', refused('grant.error'));
    provider.on('authorization.error', refused('authorization.error'));
    provider.on('introspection.error', refused('introspection.error'));
    provider.on('revocation.error', refused('revocation.error'));
    provider.on('userinfo.error', refused('userinfo.error'));
    provider.on('end_session.error', refused('end_session.error'));
    provider.on('backchannel.error', (_ctx: KoaContextWithOIDC, err: Error, client: { clientId: string }) =>
      log.warn({ client: client.clientId, err: err.message }, 'oidc: back-channel logout failed'));

    // Signing out through OpenID Connect (the sign-out page's "Sign out") ends fedgate's session
    // too, and with it every protocol's single sign-on. The provider's own logout on an account
    // switch (a form post back to the authorization) is not a sign-out of fedgate.
    provider.use(async (ctx, next) => {
      await next();
      const { oidc } = ctx as Partial<KoaContextWithOIDC>;
      // response_mode=form_post: the page posts to the (checked) redirect URI.
      const redirectUri = oidc?.params?.redirect_uri;
      if ((oidc?.route === 'authorization' || oidc?.route === 'resume') && oidc.params?.response_mode === 'form_post' && ctx.status === 200
        && typeof redirectUri === 'string' && oidc.client?.redirectUriAllowed(redirectUri)) {
        allowFormTarget(ctx as KoaContextWithOIDC, redirectUri);
      }
      if (oidc?.route !== 'end_session_confirm' || !oidc.params?.logout) return;
      // Only a sign-out the person confirmed on fedgate's page (shown when the provider's session
      // names an account): the page-less logout of an empty session is anyone's to trigger.
      if (!oidc.session?.accountId) return;
      const destination = ctx.response.get('location');
      if (destination.startsWith(`${issuer}/auth/`)) return;
      const req = expressRequest(ctx as KoaContextWithOIDC);
      // The provider has told its clients (back-channel); fedgate's sign-out tells the rest (SAML
      // single logout, WS-Fed cleanup frames) and then goes where the provider would have gone.
      (ctx as KoaContextWithOIDC).respond = false;
      await deps.signOut(req, req.res as Response, { kind: 'page', continueUrl: destination || undefined, application: oidc.client?.clientId ?? 'oidc', backchannelSent: true });
    });

    const handler = Router();
    handler.use(interactionRoutes({
      provider, pipeline: deps.pipeline, cookie: deps.cookie, render: deps.render, accounts, clients, mountPath, secure: deps.secure,
      showSignIn: deps.showSignIn,
    }));
    handler.use(provider.callback());
    const backchannel = trackBackchannelLogout(provider, {
      store: deps.store, sessions: deps.sessions, cookie: deps.cookie, log, ttlMs: Math.max(config.session.lifetime, config.session.keepMeSignedInLifetime),
    });
    return { provider, handler, backchannel };
  };

  /**
   * oidc-provider reads its keys once, at construction: when the key store's keys change (another
   * node's `fedgate keys promote`, seen by key-watch.ts) the provider is built again on the next
   * request, so ID tokens are signed with the new current key as WS-Fed and SAML tokens are. The
   * key it signed with before stays in its JWKS for one ID-token lifetime (oidc-provider signs with
   * the first RS256 key, the current one): a relying party holding a token signed a moment ago
   * still finds its key, and a key replaced because it leaked stops being accepted soon after.
   * Everything else the provider keeps is in the state store, so nothing is lost.
   */
  let published = signingJwks(deps.keys);
  let built = { generation: deps.keys.generation, keptUntil: Infinity, ...build(published) };
  const current = () => {
    if (built.generation !== deps.keys.generation) {
      const fresh = signingJwks(deps.keys);
      const kept = published.keys.filter((k) => k.alg === 'RS256' && !fresh.keys.some((f) => f.kid === k.kid));
      built = { generation: deps.keys.generation, keptUntil: Date.now() + ttl.idToken, ...build({ keys: [...fresh.keys, ...kept] }) };
      published = fresh;
      log.info({ kids: fresh.keys.map((k) => k.kid), kept: kept.map((k) => k.kid) }, 'oidc: signing keys changed; the provider now signs with the current key');
    } else if (Date.now() >= built.keptUntil) {
      built = { generation: built.generation, keptUntil: Infinity, ...build(published) };
      log.info({ kids: published.keys.map((k) => k.kid) }, 'oidc: the previous signing key is no longer published');
    }
    return built;
  };

  const router = Router();
  const publicUrl = new URL(issuer);
  router.use((req, _res, next) => {
    req.headers['x-forwarded-proto'] = publicUrl.protocol.slice(0, -1);
    req.headers['x-forwarded-host'] = publicUrl.host;
    req.headers['x-fedgate-client-ip'] = requestContext(req).clientIp;
    next();
  });
  router.use((req, res, next) => current().handler(req, res, next));
  return {
    mountPath, router,
    get provider() { return current().provider; },
    backchannel: { signedOut: (ssoId, applications) => current().backchannel.signedOut(ssoId, applications) },
  };
}
