import type { ShowSignIn } from '../../authn/sign-in-steps.js';
import express, { Router, type Request, type Response } from 'express';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { SignInPipeline } from '../../authn/sign-in-pipeline.js';
import type { OidcRelyingPartyConfig } from '../../config/schema.js';
import { IdpError } from '../../core/errors.js';
import type { Principal } from '../../core/principal.js';
import { csrfToken, verifyCsrf } from '../../http/csrf.js';
import { formParam, queryParam } from '../../http/params.js';
import { requestContext } from '../../http/request-context.js';
import type { RenderPage } from '../../http/render.js';
import type { SessionCookie } from '../../http/session-cookie.js';
import type { AccountCache } from './accounts.js';
import { loginOf } from './sso-check.js';

/**
 * oidc-provider's interactions, answered by fedgate: the login prompt is a sign-in through THE
 * pipeline (an SSO session of any protocol answers at once; otherwise the sign-in form, then
 * back here), the consent prompt a page of fedgate's for clients that are not first-party.
 */
export interface InteractionRouteDeps {
  readonly provider: Provider;
  readonly pipeline: SignInPipeline;
  readonly cookie: SessionCookie;
  readonly render: RenderPage;
  readonly accounts: AccountCache;
  readonly clients: ReadonlyMap<string, OidcRelyingPartyConfig>;
  /** The issuer's path (/oidc): interaction URLs are under it. */
  readonly mountPath: string;
  readonly secure: boolean;
  /** The sign-in form, answered at the interaction itself (sign-in-steps.ts). */
  readonly showSignIn: ShowSignIn;
}

/** What the pipeline keeps for us while the person signs in. */
interface OidcPendingState {
  readonly protocol: 'oidc';
  readonly uid: string;
}

const UID = /^[A-Za-z0-9_-]{8,64}$/;
/** Login prompt reasons that a reused session cannot answer: only a new sign-in can. */
const FRESH_REASONS = new Set(['login_prompt', 'max_age', 'id_token_hint', 'claims_id_token_sub_value']);

const expired = (detail: string) =>
  new IdpError('signin_expired', 'This sign-in took too long or was already used. Go back to the application and start again.', detail);

export const interactionPath = (uid: string) => `/interaction/${uid}`;

export function interactionRoutes(deps: InteractionRouteDeps): Router {
  const router = Router();
  const { provider } = deps;

  const details = async (req: Request, res: Response) => {
    const uid = req.params.uid;
    if (typeof uid !== 'string' || !UID.test(uid)) throw expired('malformed interaction uid');
    let interaction;
    try {
      interaction = await provider.interactionDetails(req, res);
    } catch (err) {
      throw expired(`oidc interaction: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (interaction.uid !== uid) throw expired('interaction cookie names another interaction');
    return interaction;
  };

  /**
   * Back to the authorization endpoint. After a form post (the sign-in form, the consent page)
   * not by redirect: browsers hold every redirect of a form's navigation to the page's CSP
   * form-action ('self'), and the last one goes to the application. A page that moves on by
   * itself (Refresh) starts a navigation of its own.
   */
  const finish = async (req: Request, res: Response, result: InteractionResults, merge: boolean, afterForm = false) => {
    let url: string;
    try {
      url = await provider.interactionResult(req, res, result, { mergeWithLastSubmission: merge });
    } catch (err) {
      throw expired(`oidc interaction finish: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!afterForm) return res.redirect(303, url);
    res.set('Refresh', `0; url=${url}`);
    deps.render(req, res, 'oidc-continue', { url });
  };

  const signedIn = async (req: Request, res: Response, principal: Principal, afterForm: boolean) => {
    const accountId = await deps.accounts.remember(principal);
    // The provider's session cookie lasts as long as the browser, as fedgate's own does.
    await finish(req, res, { login: { ...loginOf(accountId, principal), remember: false } }, false, afterForm);
  };

  router.get('/interaction/:uid', async (req, res) => {
    const interaction = await details(req, res);
    const clientId = String(interaction.params.client_id ?? '');
    const client = deps.clients.get(clientId);
    if (!client) throw new IdpError('unknown_application', 'The application you came from is not known to this sign-in service.', `oidc client ${clientId}`);
    if (interaction.prompt.name === 'login') {
      const maxAge = Number(interaction.params.max_age);
      const loginHint = typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint : undefined;
      const state: OidcPendingState = { protocol: 'oidc', uid: interaction.uid };
      const started = await deps.pipeline.start({
        application: clientId,
        resumePath: `${deps.mountPath}${interactionPath(interaction.uid)}/signed-in`,
        forceFresh: interaction.prompt.reasons.some((r) => FRESH_REASONS.has(r) && r !== 'max_age'),
        maxAuthAgeMs: Number.isSafeInteger(maxAge) && maxAge >= 0 ? maxAge * 1000 : undefined,
        loginHint,
        protocolState: state,
      }, deps.cookie.read(req), requestContext(req));
      if (started.kind === 'signed-in') return signedIn(req, res, started.principal, false);
      if (started.kind === 'login-required') return deps.showSignIn(req, res, started.pending);
      return finish(req, res, { error: 'login_required', error_description: 'End-User authentication is required' }, false);
    }
    if (interaction.prompt.name === 'consent' && client.firstParty) return grantMissing(req, res, interaction, false);
    if (interaction.prompt.name === 'consent') {
      const principal = interaction.session?.accountId ? await deps.accounts.principal(interaction.session.accountId) : undefined;
      const missing = interaction.prompt.details.missingOIDCScope;
      deps.render(req, res, 'oidc-consent', {
        applicationName: client.displayName ?? client.identifier,
        user: principal ? principal.user.userPrincipalName ?? principal.user.username : undefined,
        scopes: Array.isArray(missing) ? missing.filter((s): s is string => typeof s === 'string') : [],
        csrf: csrfToken(req, res, deps.secure),
        action: `${deps.mountPath}${interactionPath(interaction.uid)}/consent`,
      });
      return;
    }
    throw new IdpError('unsupported_request', 'The request could not be understood.', `oidc prompt ${interaction.prompt.name}`);
  });

  router.get('/interaction/:uid/signed-in', async (req, res) => {
    const interaction = await details(req, res);
    const done = await deps.pipeline.finish(queryParam(req, 'pending'), deps.cookie.read(req));
    const state = done?.pending.protocolState as Partial<OidcPendingState> | undefined;
    if (!done || state?.protocol !== 'oidc' || state.uid !== interaction.uid || interaction.prompt.name !== 'login') {
      throw expired('oidc resume without a completed pending sign-in for this interaction');
    }
    await signedIn(req, res, done.principal, true);
  });

  router.post('/interaction/:uid/consent', express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 }), async (req, res) => {
    verifyCsrf(req, deps.secure);
    const interaction = await details(req, res);
    const accountId = interaction.session?.accountId;
    if (interaction.prompt.name !== 'consent' || !accountId) throw expired('consent without a consent prompt');
    if (formParam(req, 'decision') !== 'allow') {
      return finish(req, res, { error: 'access_denied', error_description: 'End-User denied consent' }, true, true);
    }
    return grantMissing(req, res, interaction, true);
  });

  /** Consent given (or not needed, for a first-party client): the grant gains what the prompt found missing. */
  const grantMissing = async (req: Request, res: Response, interaction: Awaited<ReturnType<typeof details>>, afterForm: boolean) => {
    const accountId = interaction.session?.accountId;
    if (!accountId) throw expired('consent without a signed-in account');
    const clientId = String(interaction.params.client_id);
    const grant = (interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined) ?? new provider.Grant({ accountId, clientId });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = interaction.prompt.details as {
      missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]>;
    };
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
    return finish(req, res, { consent: { grantId: await grant.save() } }, true, afterForm);
  };

  return router;
}
