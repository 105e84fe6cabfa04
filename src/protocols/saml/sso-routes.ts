import { createHash } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { SignInPipeline } from '../../authn/sign-in-pipeline.js';
import type { Resume, ShowSignIn } from '../../authn/sign-in-steps.js';
import { markResponse } from '../../observability/token-mark.js';
import type { Config } from '../../config/schema.js';
import { IdpError } from '../../core/errors.js';
import type { Principal } from '../../core/principal.js';
import type { FastHandler } from '../../http/fast-lane.js';
import { queryParam } from '../../http/params.js';
import { writeFormPage, type RenderPage } from '../../http/render.js';
import type { Logger } from '../../observability/logger.js';
import { requestContext } from '../../http/request-context.js';
import type { SessionCookie } from '../../http/session-cookie.js';
import type { StateStore } from '../../state/state-store.js';
import { CLOCK_SKEW_MS, MAX_REQUEST_AGE_MS, readAuthnRequest, type SamlSignInState, type StatusAnswer } from './authn-request.js';
import { decodeSamlMessage, firstChild, hasSamlMessage, readSamlMessage, verifySamlMessage, type InboundSamlMessage } from './inbound-message.js';
import type { SamlIssuer, SamlPostForm } from './issue-response.js';
import { SAML_NS, SAML_STATUS } from './saml-constants.js';
import type { ServiceProvider } from './service-provider.js';
import type { ParticipantRecord } from './single-logout.js';

/**
 * SAML 2.0 Web Browser SSO (saml-profiles §4.1) at /saml/sso and at AD FS's /adfs/ls/ (Redirect
 * and POST bindings), the resume step after the sign-in page, and IdP-initiated SSO (opt-in per SP).
 * Order of trust: parse (hardened) → the SP named by Issuer → its signature → the ACS it registered;
 * only then may a problem be answered with a status Response, and only to that ACS.
 */
export interface ServiceProviderLookup {
  get(entityId: string): ServiceProvider | undefined;
  list(): readonly ServiceProvider[];
}

export interface SamlSsoDeps {
  readonly config: Config;
  readonly pipeline: SignInPipeline;
  readonly cookie: SessionCookie;
  readonly render: RenderPage;
  readonly serviceProviders: ServiceProviderLookup;
  readonly issuer: SamlIssuer;
  readonly store: StateStore;
  /** Handles a LogoutRequest or LogoutResponse that arrived at a shared endpoint (/adfs/ls/). */
  readonly logout?: (req: Request, res: Response, message: InboundSamlMessage) => Promise<void>;
  /** Remembers the NameID an SP received in a session, for its single logout. */
  readonly record?: (ssoId: string, participant: ParticipantRecord) => Promise<void>;
  /** The sign-in form, answered here to a person without a session (sign-in-steps.ts). */
  readonly showSignIn: ShowSignIn;
  readonly now?: () => number;
}

export const SAML_SSO_PATH = '/saml/sso';
export const SAML_RESUME_PATH = '/saml/resume';
const ADFS_PATH = '/adfs/ls';
const AUTHN_REQUEST = [{ ns: SAML_NS.protocol, localName: 'AuthnRequest' }];

const unknownSp = (issuer: string | undefined) =>
  new IdpError('unknown_application', 'The application you came from is not known to this sign-in service.', `unknown SAML issuer ${issuer ?? '(none)'}`);
const expired = () => new IdpError('signin_expired', 'This sign-in took too long or was already used. Go back to the application and start again.', 'saml resume without a completed pending sign-in');

/** The SSO endpoints' Express routes, and their fast lane (fast-lane.ts): a signed-in person's AuthnRequest by GET. */
export function samlSsoRoutes(deps: SamlSsoDeps): { router: Router; fastSignOn: FastHandler; resume: Resume } {
  const router = Router();
  const now = deps.now ?? Date.now;
  const base = deps.config.server.baseUrl;
  const endpointUrls = [`${base}${SAML_SSO_PATH}`, `${base}${ADFS_PATH}/`, `${base}${ADFS_PATH}`];

  const post = (req: Request, res: Response, form: SamlPostForm) => {
    deps.render.post(req, res, form);
  };

  const answerStatus = (req: Request, res: Response, sp: ServiceProvider, state: SamlSignInState, status: StatusAnswer) => {
    const form = deps.issuer.status(sp, state, status);
    req.log.info({ entityId: sp.entityId, acs: state.acsUrl, requestId: state.requestId, responseId: form.responseId, status: status.subCode ?? status.code }, 'saml: status response');
    post(req, res, form);
  };

  /** The signed Response for a signed-in person, as the auto-post page: how both lanes answer. */
  const successPage = async (log: Logger, sp: ServiceProvider, state: SamlSignInState, principal: Principal, ssoId: string, acceptLanguage: string | undefined, requestId: string) => {
    const form = await deps.issuer.success(principal, sp, state, ssoId);
    await deps.record?.(ssoId, { entityId: sp.entityId, nameId: form.nameId, issuer: form.issuer });
    log.info({ entityId: sp.entityId, acs: state.acsUrl, requestId: state.requestId, responseId: form.responseId, assertionId: form.assertionId }, 'saml: response issued');
    return { action: form.action, html: deps.render.autopost(form.action, Object.entries(form.fields), acceptLanguage, requestId) };
  };

  /** The assertion for a signed-in person, or NoAuthnContext when their way of signing in is not one the SP accepts. */
  const respond = async (req: Request, res: Response, sp: ServiceProvider, state: SamlSignInState, principal: Principal, ssoId: string) => {
    if (!state.acceptedMethods.includes(principal.authentication.kind)) {
      return answerStatus(req, res, sp, state, { code: SAML_STATUS.requester, subCode: SAML_STATUS.noAuthnContext, message: 'The requested authentication context cannot be met' });
    }
    const page = await successPage(req.log, sp, state, principal, ssoId, req.headers['accept-language'], String(req.id));
    writeFormPage(res, page.action, page.html);
  };

  const signIn = async (req: Request, res: Response, state: SamlSignInState, request: Omit<Parameters<SignInPipeline['start']>[0], 'resumePath'>, sp: ServiceProvider) => {
    const sessionId = deps.cookie.read(req);
    const result = await deps.pipeline.start({ ...request, resumePath: SAML_RESUME_PATH }, sessionId, requestContext(req));
    if (result.kind === 'signed-in') return respond(req, res, sp, state, result.principal, result.ssoId);
    // The AuthnRequest's ID is spent: a Kerberos challenge must not ask the browser to repeat it.
    if (result.kind === 'login-required') return deps.showSignIn(req, res, result.pending, { oneTime: true });
    return answerStatus(req, res, sp, state, { code: SAML_STATUS.responder, subCode: SAML_STATUS.noPassive, message: 'The person is not signed in and IsPassive was set' });
  };

  /** An AuthnRequest read as far as it can be without changing anything: its SP, its signature, then what it asks. */
  const readRequest = (message: InboundSamlMessage) => {
    const sp = message.issuer === undefined ? undefined : deps.serviceProviders.get(message.issuer);
    if (!sp) throw unknownSp(message.issuer);
    const verified = verifySamlMessage(message, sp, AUTHN_REQUEST);
    // Keys were chosen by the posted Issuer: the signed copy must name the same SP.
    const signedIssuer = firstChild(verified.element, SAML_NS.assertion, 'Issuer')?.textContent?.trim();
    if (signedIssuer !== sp.entityId) throw unknownSp(signedIssuer);
    const outcome = readAuthnRequest(verified.element, sp, { endpointUrls, signed: verified.signed, relayState: verified.relayState, now: now() });
    return { sp, outcome, signed: verified.signed };
  };

  /** Replay: an AuthnRequest ID is answered once (kept for as long as the request could be accepted). */
  const firstUse = (sp: ServiceProvider, requestId: string) =>
    deps.store.setIfAbsent(`saml:authn:${createHash('sha256').update(sp.entityId).digest('base64url')}:${requestId}`, 1, MAX_REQUEST_AGE_MS + 2 * CLOCK_SKEW_MS);

  /** Requests whose AuthnRequest ID the fast lane recorded as used before it declined them. */
  const usedByFastLane = new WeakSet<object>();

  const authnRequest = async (req: Request, res: Response, message: InboundSamlMessage) => {
    const { sp, outcome, signed } = readRequest(message);
    const requestId = outcome.state.requestId!;
    if (!usedByFastLane.has(req) && !(await firstUse(sp, requestId))) {
      throw new IdpError('bad_request', 'This sign-in request was already used. Go back to the application and start again.', `replayed AuthnRequest ${requestId} from ${sp.entityId}`);
    }
    req.log.debug({ entityId: sp.entityId, requestId, binding: message.binding, signed }, 'saml: AuthnRequest');
    if (outcome.kind === 'status') return answerStatus(req, res, sp, outcome.state, outcome.status);
    return signIn(req, res, outcome.state, outcome.request, sp);
  };

  /**
   * The fast lane: an AuthnRequest by GET from a person whose session answers it. Until the replay
   * cache, nothing is changed (the session is only peeked at), so whatever it declines Express reads
   * afresh and answers as before, a replayed ID included. Once the ID is recorded, a decline (a
   * session that ended that very moment, an error) tells Express the ID was this request's own.
   */
  const fastSignOn: FastHandler = async ({ req, query, id, clientIp, log }) => {
    if (query.SAMLRequest === undefined || query.SAMLResponse !== undefined) return undefined;
    const sessionId = deps.cookie.read(req);
    if (sessionId === undefined) return undefined;
    let read;
    try {
      const message = decodeSamlMessage({ binding: 'redirect', fields: query, rawQuery: req.url!.slice(req.url!.indexOf('?') + 1) }, 'SAMLRequest');
      if (message.root.namespaceURI !== SAML_NS.protocol || message.root.localName !== 'AuthnRequest') return undefined;
      read = { message, ...readRequest(message) };
    } catch {
      return undefined; // Express answers it: the error page or a status Response
    }
    const { sp, outcome, message } = read;
    if (outcome.kind === 'status') return undefined;
    const principal = await deps.pipeline.peek(outcome.request, sessionId);
    if (!principal || !outcome.state.acceptedMethods.includes(principal.authentication.kind)) return undefined;
    if (!(await firstUse(sp, outcome.state.requestId!))) return undefined;
    usedByFastLane.add(req);
    const started = await deps.pipeline.start({ ...outcome.request, passive: true, resumePath: SAML_RESUME_PATH }, sessionId, { clientIp, requestId: id });
    if (started.kind !== 'signed-in' || !outcome.state.acceptedMethods.includes(started.principal.authentication.kind)) return undefined;
    log.debug({ entityId: sp.entityId, requestId: outcome.state.requestId, binding: message.binding, signed: read.signed }, 'saml: AuthnRequest');
    const page = await successPage(log, sp, outcome.state, started.principal, started.ssoId, req.headers['accept-language'], id);
    return { html: page.html, formAction: page.action, protocol: 'saml' };
  };

  /** Everything a SAML endpoint can receive: an AuthnRequest here, logout messages go to the logout handler. */
  const dispatch = async (req: Request, res: Response, next: NextFunction) => {
    const parameter = hasSamlMessage(req, 'SAMLRequest') ? 'SAMLRequest' : hasSamlMessage(req, 'SAMLResponse') ? 'SAMLResponse' : undefined;
    // /adfs/ls/ is shared with WS-Federation: without a SAML message it is not ours.
    if (parameter === undefined) {
      if (req.path.startsWith(ADFS_PATH)) return next();
      throw new IdpError('bad_request', 'The request could not be understood.', 'SAML endpoint without SAMLRequest');
    }
    const message = readSamlMessage(req, parameter);
    if (parameter === 'SAMLRequest' && message.root.namespaceURI === SAML_NS.protocol && message.root.localName === 'AuthnRequest') {
      return authnRequest(req, res, message);
    }
    if (deps.logout) return deps.logout(req, res, message);
    throw new IdpError('bad_request', 'The request could not be understood.', `unexpected SAML message ${message.root.localName ?? ''}`);
  };

  /** The Response for a completed pending sign-in: from the sign-in form's POST, or GET SAML_RESUME_PATH. */
  const resume: Resume = async (req, res, done) => {
    markResponse(res, { tokenProtocol: 'saml' });
    const state = done?.pending.protocolState as Partial<SamlSignInState> | undefined;
    const sp = state?.protocol === 'saml' && state.entityId !== undefined ? deps.serviceProviders.get(state.entityId) : undefined;
    // The SP's metadata may have changed since: the ACS must still be one it registers.
    if (!done || !state || !sp || done.pending.resumePath !== SAML_RESUME_PATH || !sp.assertionConsumerServices.some((a) => a.url === state.acsUrl)) {
      throw expired();
    }
    await respond(req, res, sp, state as SamlSignInState, done.principal, done.ssoId);
  };
  router.get(SAML_RESUME_PATH, async (req, res) => resume(req, res, await deps.pipeline.finish(queryParam(req, 'pending'), deps.cookie.read(req))));

  router.get('/saml/idp-initiated', async (req, res) => {
    const entityId = queryParam(req, 'sp');
    const sp = entityId === undefined ? undefined : deps.serviceProviders.get(entityId);
    if (!sp || !sp.allowIdpInitiated) {
      throw new IdpError('unknown_application', 'This application cannot be opened from here.', `IdP-initiated sign-on to ${entityId ?? '(none)'} is not allowed`);
    }
    const relayState = idpInitiatedRelayState(queryParam(req, 'RelayState') ?? sp.defaultRelayState, sp);
    const acsUrl = sp.assertionConsumerServices[0]!.url;
    const state: SamlSignInState = {
      protocol: 'saml', entityId: sp.entityId, acsUrl, requestId: undefined, relayState, nameIdFormat: sp.nameIdFormat,
      acceptedMethods: ['password', 'kerberos'], passwordContextClass: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
    };
    await signIn(req, res, state, { application: sp.entityId, protocolState: state }, sp);
  });

  for (const path of [SAML_SSO_PATH, ADFS_PATH]) {
    router.get(path, dispatch);
    router.post(path, dispatch);
  }
  return { router, fastSignOn, resume };
}

/**
 * RelayState of an unsolicited response is chosen by whoever wrote the link, and many SPs redirect
 * to it after sign-in: only a local path or a URL on one of the SP's own ACS origins is passed on.
 */
function idpInitiatedRelayState(value: string | undefined, sp: ServiceProvider): string | undefined {
  if (value === undefined || value === '') return undefined;
  const refuse = () => new IdpError('bad_request', 'This link to the application is not valid.', `IdP-initiated RelayState ${value.slice(0, 80)} refused for ${sp.entityId}`);
  // An encoded slash or backslash turns "/%2F%2Fevil.example" into "//evil.example" at an SP that decodes first.
  if (value.length > 80 || /[\u0000-\u001f\u007f\\]|%2f|%5c/i.test(value)) throw refuse();
  if (value.startsWith('/') && !value.startsWith('//')) return value;
  let origin: string;
  try {
    origin = new URL(value).origin;
  } catch {
    throw refuse();
  }
  if (!sp.assertionConsumerServices.some((a) => new URL(a.url).origin === origin)) throw refuse();
  return value;
}
