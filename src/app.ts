import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import express from 'express';
import proxyaddr from 'proxy-addr';
import { loginRoutes } from './authn/login-routes.js';
import type { Resumers } from './authn/sign-in-steps.js';
import { errorHandler, notFoundHandler } from './http/error-handler.js';
import { withFastLane, type FastHandler, type RequestListener } from './http/fast-lane.js';
import { refuseHeadOn } from './http/one-shot-head.js';
import { parseQueryOnce } from './http/params.js';
import { securityHeaders, securityHeadersMiddleware } from './http/security-headers.js';
import { requestLogging } from './http/request-log.js';
import { createRenderer, VIEWS_DIR } from './http/render.js';
import { SECURE_COOKIES_SETTING } from './http/request-context.js';
import { createSessionCookie } from './http/session-cookie.js';
import { healthRoutes } from './observability/health-routes.js';
import { clusterMetricsSource } from './observability/metrics-cluster.js';
import { metricsRoutes } from './observability/metrics-routes.js';
import { createWsfedIssuer } from './protocols/wsfed/issue-token.js';
import { WSFED_PATHS, WSFED_RESUME_PATH, wsfedRoutes } from './protocols/wsfed/wsfed-routes.js';
import { metadataRoutes } from './protocols/wsfed/metadata-route.js';
import { mexRoutes } from './protocols/wstrust/mex-route.js';
import { wsTrustRoutes } from './protocols/wstrust/wstrust-routes.js';
import { federationIdentifier, oidcIssuer } from './config/schema.js';
import { PORTAL_RESUME_PATH, portalRoutes } from './portal/portal-routes.js';
import { createSamlIssuer } from './protocols/saml/issue-response.js';
import { createSingleLogout } from './protocols/saml/single-logout.js';
import { SAML_RESUME_PATH, SAML_SSO_PATH, samlSsoRoutes } from './protocols/saml/sso-routes.js';
import { idpInitiatedPage } from './protocols/saml/idp-initiated-page.js';
import { createProviderPages } from './protocols/oidc/provider-pages.js';
import type { Services } from './services.js';

/** fedgate's HTTP surface: node:http's request listener (http.createServer(app), supertest(app)). */
export type App = RequestListener;

/**
 * createApp: the one place routers are mounted. Read top to bottom, it is the table of contents
 * of fedgate's HTTP surface. In front of Express, the fast lane (http/fast-lane.ts) answers a
 * signed-in person's token requests with the same handlers' work and nothing else.
 */
export function createApp(services: Services): App {
  const { config, log } = services;
  const secure = config.server.baseUrl.startsWith('https:');
  const logoFile = config.branding.logoFile;
  const chrome = {
    organizationName: config.branding.organizationName,
    hasLogo: logoFile !== undefined && existsSync(logoFile),
    helpUrl: config.branding.helpUrl,
    demo: config.demo,
  };
  const render = createRenderer(chrome, { cache: true });
  const netbiosDomain = config.directory.type === 'ldap' ? config.directory.netbiosDomain : undefined;
  const cookie = createSessionCookie(config.session.cookieName, secure);
  const applicationName = (id: string) => config.relyingParties.find((rp) => rp.identifier === id)?.displayName ?? id;

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.server.trustProxy);
  app.disable('etag'); // every page is no-store: an ETag would only cost a hash of each response
  app.set(SECURE_COOKIES_SETTING, secure); // read where there is only the request (request-context.ts)
  app.use(parseQueryOnce);
  app.use(requestLogging(log, services.metrics.observeRequest));
  const headers = securityHeaders(secure);
  app.use(securityHeadersMiddleware(headers));
  // A HEAD must not spend what the person's GET needs (a pending sign-in, an AuthnRequest ID).
  // /login, /signin and the OIDC interaction: a GET with a Kerberos ticket signs in and answers.
  app.use(refuseHeadOn([...WSFED_PATHS, WSFED_RESUME_PATH, '/signin', PORTAL_RESUME_PATH, SAML_SSO_PATH, SAML_RESUME_PATH, '/saml/idp-initiated', '/login'],
    ['auth', 'interaction'].map((p) => `${new URL(oidcIssuer(config)).pathname.replace(/\/+$/, '')}/${p}`)));
  // OpenID Connect, before the form parser: oidc-provider reads (and limits) its own request bodies.
  const oidc = services.oidcRoutes?.({
    config, keys: services.keys, store: services.store, pipeline: services.pipeline, sessions: services.sessions, cookie, render,
    pages: createProviderPages(chrome), log, secure,
    // Built below, once the back-channel logout it calls exists.
    signOut: (req, res, initiator, except) => singleLogout.signOut(req, res, initiator, except),
    showSignIn: (req, res, pending) => login.showSignIn(req, res, pending),
  });
  if (oidc) app.use(oidc.mountPath, oidc.router);
  app.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 100 }));

  app.use(healthRoutes({ directory: services.directory, keys: services.keys, state: services.store, kerberos: services.negotiate?.acceptor }));
  // Under node:cluster a scrape reaching any worker is answered with every worker's figures.
  app.use(metricsRoutes(config, services.metrics, { source: cluster.isWorker ? clusterMetricsSource(services.metrics) : undefined }));
  app.use('/static', express.static(`${VIEWS_DIR}static`, { maxAge: '1h', index: false }));
  if (logoFile) app.get('/branding/logo', (_req, res) => res.sendFile(logoFile));
  const samlIssuer = createSamlIssuer({ keys: services.keys, nameIdSalt: services.samlNameIdSalt, netbiosDomain });
  // One sign-out for every protocol: SAML single logout, WS-Fed cleanup frames, the signed-out page.
  const singleLogout = createSingleLogout({
    config, pipeline: services.pipeline, cookie, render, serviceProviders: services.serviceProviders, keys: services.keys,
    store: services.store, sessions: services.sessions, sessionIndex: samlIssuer.sessionIndex, onSignedOut: oidc?.backchannel.signedOut,
  });
  // How each protocol finishes a sign-in, by resume path: the form's POST answers with it (sign-in-steps.ts).
  const resumers: Resumers = new Map();
  const login = loginRoutes({
    pipeline: services.pipeline, sessions: services.sessions, cookie, render, secure,
    keepMeSignedIn: config.session.keepMeSignedIn, passwordChangeUrl: config.branding.passwordChangeUrl, applicationName,
    negotiate: services.negotiate, signOut: singleLogout.signOut, resumers,
  });
  const { showSignIn } = login;
  app.use(login.router);
  const portal = portalRoutes({
    pipeline: services.pipeline, sessions: services.sessions, cookie, render,
    directoryDescription: services.directory.describe(),
    // A SAML SP named only by its metadata has no identifier in the configuration.
    applications: config.relyingParties.flatMap((rp) => (rp.identifier === undefined ? [] : [{ ...rp, identifier: rp.identifier }])),
    demoUsers: services.demoUsers,
    netbiosDomain,
    showSignIn,
  });
  app.use(portal.router);
  app.use(metadataRoutes(config, services.keys));
  app.use(singleLogout.router);
  if (config.saml.idpInitiatedSignOnPage) app.use(idpInitiatedPage({ render, serviceProviders: services.serviceProviders }));
  // Before WS-Fed: /adfs/ls/ carries SAML messages too, and this router passes on what is not SAML.
  const saml = samlSsoRoutes({
    config, pipeline: services.pipeline, cookie, render, serviceProviders: services.serviceProviders, issuer: samlIssuer,
    store: services.store, logout: singleLogout.handle, record: singleLogout.record, showSignIn,
  });
  app.use(saml.router);
  const wsfedIssuer = createWsfedIssuer({ keys: services.keys, defaultIssuer: federationIdentifier(config), netbiosDomain });
  const wsfed = wsfedRoutes({
    config, pipeline: services.pipeline, cookie, render,
    issue: wsfedIssuer,
    isInternal: services.isInternal,
    signOut: singleLogout.signOut,
    showSignIn,
  });
  app.use(wsfed.router);
  resumers.set(PORTAL_RESUME_PATH, portal.resume).set(SAML_RESUME_PATH, saml.resume).set(WSFED_RESUME_PATH, wsfed.resume);
  // WS-Trust (rich clients, Windows PRT, hybrid join): the same tokens as passive WS-Fed.
  app.use(mexRoutes(config));
  app.use(wsTrustRoutes({ config, pipeline: services.pipeline, issue: wsfedIssuer, isInternal: services.isInternal, negotiate: services.negotiate }));

  app.use(notFoundHandler());
  app.use(errorHandler(render));

  // Express's own routes match /adfs/ls and /adfs/ls/ alike: so does the fast lane. AD FS's path
  // carries both protocols: a SAML message makes it SAML's, as in Express.
  const adfs: FastHandler = (r) => (r.query.SAMLRequest !== undefined || r.query.SAMLResponse !== undefined ? saml.fastSignOn(r) : wsfed.fastSignIn(r));
  const fastRoutes = new Map<string, FastHandler>([
    ...WSFED_PATHS.flatMap((path) => [path, `${path}/`].map((p) => [p, path === '/adfs/ls' ? adfs : wsfed.fastSignIn] as const)),
    [SAML_SSO_PATH, saml.fastSignOn], [`${SAML_SSO_PATH}/`, saml.fastSignOn],
  ]);
  const trust = app.get('trust proxy fn') as Parameters<typeof proxyaddr>[1];
  return withFastLane({
    routes: fastRoutes, headers, log, observeToken: services.metrics.observeToken,
    clientIp: (req) => proxyaddr(req, trust),
  }, app);
}
