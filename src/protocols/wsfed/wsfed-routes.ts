import { Router, type Request, type Response } from 'express';
import type { Config, WsfedRelyingPartyConfig } from '../../config/schema.js';
import { IdpError } from '../../core/errors.js';
import type { SignInPipeline } from '../../authn/sign-in-pipeline.js';
import type { NetworkTest } from '../../http/client-network.js';
import type { FastHandler } from '../../http/fast-lane.js';
import { formParam, queryParam } from '../../http/params.js';
import { requestContext } from '../../http/request-context.js';
import { writeFormPage, type RenderPage } from '../../http/render.js';
import type { Logger } from '../../observability/logger.js';
import type { SessionCookie } from '../../http/session-cookie.js';
import type { IssueSignInResponse } from './issue-token.js';
import type { SignOut } from '../saml/single-logout.js';
import type { Resume, ShowSignIn } from '../../authn/sign-in-steps.js';
import { markResponse } from '../../observability/token-mark.js';
import { parseSignIn, type WsfedParams, type WsfedState } from './signin-request.js';

/**
 * WS-Federation passive endpoint at AD FS's own path (/adfs/ls/, so existing Entra federation
 * settings keep working) and at /wsfed: wsignin1.0, wsignout1.0, wsignoutcleanup1.0 (§1, §1.7).
 */
export interface WsfedRouteDeps {
  readonly config: Config;
  readonly pipeline: SignInPipeline;
  readonly cookie: SessionCookie;
  readonly render: RenderPage;
  readonly issue: IssueSignInResponse;
  readonly isInternal: NetworkTest;
  /** Ends the session and tells the session's other applications (single-logout.ts). */
  readonly signOut: SignOut;
  /** The sign-in form, answered here to a person without a session (sign-in-steps.ts). */
  readonly showSignIn: ShowSignIn;
}

export const WSFED_PATHS = ['/adfs/ls', '/wsfed'] as const;
export const WSFED_RESUME_PATH = '/adfs/ls/resume';
const PARAMS = ['wa', 'wtrealm', 'wreply', 'wctx', 'wfresh', 'wauth', 'prompt', 'username', 'login_hint', 'client-request-id'] as const;

/** A parameter from the query or, for a POSTed request, the form (strict: one value or none). */
function param(req: Request, name: string): string | undefined {
  return queryParam(req, name) ?? (req.method === 'POST' ? formParam(req, name) : undefined);
}

type SignInParams = WsfedParams & { 'client-request-id'?: string };

/** The parameters that make a request WS-Federation; a GET of the endpoint with none of them signs out (§1.7). */
const WSFED_PARAMS = ['wa', 'wtrealm', 'wreply', 'wctx', 'wresult', 'wfresh', 'wauth', 'SAMLRequest', 'SAMLResponse'];

/** The passive endpoint's Express routes, and its fast lane (fast-lane.ts): one GET, a session, a token. */
export function wsfedRoutes(deps: WsfedRouteDeps): { router: Router; fastSignIn: FastHandler; resume: Resume } {
  const router = Router();
  const relyingParties = deps.config.relyingParties.filter((rp): rp is WsfedRelyingPartyConfig => rp.protocol === 'wsfed');
  const byRealm = new Map(relyingParties.map((rp) => [rp.identifier, rp]));

  /** The auto-post page with a signed token: how both lanes answer a sign-in. */
  const tokenPage = (log: Logger, rp: WsfedRelyingPartyConfig, state: WsfedState, principal: Parameters<IssueSignInResponse>[0],
    ctx: { clientIp: string; requestId: string; acceptLanguage: string | undefined; clientRequestId: string | undefined }) => {
    const response = deps.issue(principal, rp, state, { insideCorporateNetwork: deps.isInternal(ctx.clientIp) });
    log.info({ realm: rp.identifier, assertionId: response.assertionId, replyUrl: response.action, clientRequestId: ctx.clientRequestId }, 'wsfed: token issued');
    const html = deps.render.autopost(response.action, Object.entries(response.fields), ctx.acceptLanguage, ctx.requestId);
    return { html, action: response.action };
  };

  const respond = (req: Request, res: Response, rp: WsfedRelyingPartyConfig, state: WsfedState, principal: Parameters<IssueSignInResponse>[0]) => {
    const page = tokenPage(req.log, rp, state, principal, { ...requestContext(req), acceptLanguage: req.headers['accept-language'], clientRequestId: param(req, 'client-request-id') });
    writeFormPage(res, page.action, page.html);
  };

  const signIn = async (req: Request, res: Response) => {
    const params = Object.fromEntries(PARAMS.map((p) => [p, param(req, p)])) as SignInParams;
    const parsed = parseSignIn(params, relyingParties);
    req.log.debug({ realm: parsed.rp.identifier, clientRequestId: params['client-request-id'], forceFresh: parsed.request.forceFresh }, 'wsfed: wsignin1.0');
    const result = await deps.pipeline.start({ ...parsed.request, resumePath: WSFED_RESUME_PATH }, deps.cookie.read(req), requestContext(req));
    if (result.kind === 'signed-in') respond(req, res, parsed.rp, parsed.state, result.principal);
    else if (result.kind === 'login-required') await deps.showSignIn(req, res, result.pending);
    else throw new IdpError('unsupported_request', 'You need to sign in first.', 'passive wsignin without a session');
  };

  const fastSignIn: FastHandler = async ({ req, query, id, clientIp, log }) => {
    if (query.wa !== 'wsignin1.0' || query.SAMLRequest !== undefined || query.SAMLResponse !== undefined) return undefined;
    const sessionId = deps.cookie.read(req);
    if (sessionId === undefined) return undefined;
    const params = Object.fromEntries(PARAMS.map((p) => [p, query[p]])) as SignInParams;
    let parsed;
    try {
      parsed = parseSignIn(params, relyingParties);
    } catch {
      return undefined; // Express answers it with the error page
    }
    log.debug({ realm: parsed.rp.identifier, clientRequestId: params['client-request-id'], forceFresh: parsed.request.forceFresh }, 'wsfed: wsignin1.0');
    // Passive: a session that does not do parks nothing here; Express then sends the person to the form.
    const result = await deps.pipeline.start({ ...parsed.request, passive: true, resumePath: WSFED_RESUME_PATH }, sessionId, { clientIp, requestId: id });
    if (result.kind !== 'signed-in') return undefined;
    const page = tokenPage(log, parsed.rp, parsed.state, result.principal, { clientIp, requestId: id, acceptLanguage: req.headers['accept-language'], clientRequestId: params['client-request-id'] });
    return { html: page.html, formAction: page.action, protocol: 'wsfed' };
  };

  const signOut = async (req: Request, res: Response) => {
    const wreply = param(req, 'wreply');
    const allowed = wreply !== undefined && relyingParties.some((rp) => rp.replyUrls.includes(wreply));
    if (wreply !== undefined && !allowed) req.log.warn({ wreply }, 'wsfed: sign-out wreply is not registered; not redirecting');
    // Every other application of the session is told (SAML single logout, wsignoutcleanup1.0 frames
    // §1.7); the application that asked to sign out (its wreply) has done so itself.
    const initiator = allowed ? relyingParties.find((rp) => rp.replyUrls.includes(wreply!))?.identifier : undefined;
    await deps.signOut(req, res, { kind: 'page', continueUrl: allowed ? wreply : undefined, application: 'wsfed' }, initiator);
  };

  const dispatch = async (req: Request, res: Response) => {
    const wa = param(req, 'wa');
    if (wa === 'wsignin1.0') return signIn(req, res);
    if (wa === 'wsignout1.0' || wa === 'wsignoutcleanup1.0') return signOut(req, res);
    // Entra's exact sign-out query is undocumented (§1.7): a bare GET of the endpoint signs out too.
    if (wa === undefined && req.method === 'GET' && !WSFED_PARAMS.some((p) => p in req.query)) return signOut(req, res);
    throw new IdpError('bad_request', 'The request could not be understood.', `unsupported wa ${wa ?? '(none)'}`);
  };

  /** The token for a completed pending sign-in: from the sign-in form's POST, or GET WSFED_RESUME_PATH. */
  const resume: Resume = async (req, res, done) => {
    markResponse(res, { tokenProtocol: 'wsfed' });
    const state = done?.pending.protocolState as Partial<WsfedState> | undefined;
    const rp = state?.protocol === 'wsfed' && state.realm !== undefined ? byRealm.get(state.realm) : undefined;
    if (!done || !state || !rp || done.pending.resumePath !== WSFED_RESUME_PATH || state.replyUrl === undefined || !rp.replyUrls.includes(state.replyUrl)) {
      throw new IdpError('signin_expired', 'This sign-in took too long or was already used. Go back to the application and start again.', 'wsfed resume without a completed pending sign-in');
    }
    respond(req, res, rp, state as WsfedState, done.principal);
  };
  router.get(WSFED_RESUME_PATH, async (req, res) => resume(req, res, await deps.pipeline.finish(queryParam(req, 'pending'), deps.cookie.read(req))));
  for (const path of WSFED_PATHS) {
    router.get(path, dispatch);
    router.post(path, dispatch);
  }
  return { router, fastSignIn, resume };
}
