import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { SignInPipeline } from '../../authn/sign-in-pipeline.js';
import type { Config, WsfedRelyingPartyConfig } from '../../config/schema.js';
import { IdpError } from '../../core/errors.js';
import { narrowPageCsp } from '../../http/csp.js';
import { queryParam } from '../../http/params.js';
import type { RenderPage } from '../../http/render.js';
import { requestContext } from '../../http/request-context.js';
import type { SessionCookie } from '../../http/session-cookie.js';
import type { KeyStore } from '../../keys/key-store.js';
import type { Sessions, SsoSession } from '../../session/sessions.js';
import type { StateStore } from '../../state/state-store.js';
import { wsfedCleanupTargets, type CleanupTarget } from '../wsfed/signout-cleanup.js';
import type { SamlNameId } from './assertion-content.js';
import { CLOCK_SKEW_MS } from './authn-request.js';
import { firstChild, hasSamlMessage, readSamlMessage, verifySamlMessage, type InboundSamlMessage } from './inbound-message.js';
import { PARTIAL_LOGOUT, writeLogoutRequest, writeLogoutResponse } from './logout-messages.js';
import { postBindingForm, redirectBindingUrl } from './redirect-binding.js';
import type { Saml2Status } from './saml2-response.js';
import { SAML_NS, SAML_STATUS } from './saml-constants.js';
import type { ServiceProvider } from './service-provider.js';
import type { ServiceProviderLookup } from './sso-routes.js';

/**
 * Single logout (saml-profiles §4.4), front channel, for every way a sign-out can start: an SP's
 * LogoutRequest (Redirect or POST, at /saml/slo or /adfs/ls/), wsignout1.0, or fedgate's own
 * sign-out page. The session ends first (nothing can resume it), then the browser is walked through
 * the other SAML SPs of the session one at a time (LogoutRequest out, LogoutResponse back), then
 * shown the WS-Fed cleanup frames, then returned: a LogoutResponse to the SP that asked (Success,
 * or PartialLogout when a participant failed or could not be told), or the signed-out page.
 * The walk's state is in the state store, keyed by a random id and by each request's ID.
 */

/** What an SP received in a session, to log it out later (its NameID and the issuer it saw). */
export interface ParticipantRecord {
  readonly entityId: string;
  readonly nameId: SamlNameId;
  readonly issuer: string;
}

export type SignOutInitiator =
  | { readonly kind: 'saml'; readonly entityId: string; readonly requestId: string; readonly relayState: string | undefined }
  | {
    readonly kind: 'page'; readonly continueUrl: string | undefined; readonly application?: string;
    /** OpenID Connect's own logout has already sent the back-channel logout tokens. */
    readonly backchannelSent?: boolean;
  };

interface LogoutRun {
  readonly id: string;
  readonly initiator: SignOutInitiator;
  readonly sessionIndex: string;
  readonly remaining: readonly ParticipantRecord[];
  readonly cleanup: readonly CleanupTarget[];
  readonly cleanupShown: boolean;
  readonly partial: boolean;
  /** The LogoutRequest we sent and wait the answer of. */
  readonly awaiting: { readonly requestId: string; readonly entityId: string } | undefined;
}

export interface SingleLogoutDeps {
  readonly config: Config;
  readonly pipeline: SignInPipeline;
  readonly cookie: SessionCookie;
  readonly render: RenderPage;
  readonly serviceProviders: ServiceProviderLookup;
  readonly keys: KeyStore;
  readonly store: StateStore;
  /** The SessionIndex the session's assertions carried. */
  readonly sessionIndex: (ssoId: string) => string;
  readonly sessions: Sessions;
  /** Told after a session ended, not awaited (OpenID Connect back-channel logout). */
  readonly onSignedOut?: (ssoId: string, applications: readonly string[]) => Promise<void>;
  readonly now?: () => number;
}

/** Ends the browser's session and tells every participant but `except`, then finishes as the initiator needs. */
export type SignOut = (req: Request, res: Response, initiator: SignOutInitiator, except?: string) => Promise<void>;

export interface SingleLogout {
  /** Ends the browser's session and tells every participant but `except`, then finishes as the initiator needs. */
  readonly signOut: SignOut;
  /** A LogoutRequest or LogoutResponse that arrived at a SAML endpoint. */
  handle(req: Request, res: Response, message: InboundSamlMessage): Promise<void>;
  /** Remembers what an SP received, for its logout (kept as long as a session can live). */
  record(ssoId: string, participant: ParticipantRecord): Promise<void>;
  readonly router: Router;
}

export const SAML_SLO_PATH = '/saml/slo';
const CONTINUE_PATH = '/saml/slo/continue';
/** How long the browser has to walk the participants (each SP answers within seconds). */
const RUN_TTL_MS = 10 * 60_000;
/** A LogoutRequest we send is valid this long (it travels through the browser). */
const REQUEST_VALIDITY_MS = 5 * 60_000;
const LOGOUT_REQUEST = [{ ns: SAML_NS.protocol, localName: 'LogoutRequest' }];
const LOGOUT_RESPONSE = [{ ns: SAML_NS.protocol, localName: 'LogoutResponse' }];
const ID = /^[A-Za-z_][A-Za-z0-9._-]{0,255}$/;
const RUN_ID = /^[A-Za-z0-9_-]{32}$/;

const hashed = (value: string) => createHash('sha256').update(value).digest('base64url');
const participantKey = (reference: string, entityId: string) => `saml:participant:${reference}:${hashed(entityId)}`;
const runKey = (id: string) => `saml:slo:${id}`;
const awaitingKey = (requestId: string) => `saml:slo-request:${hashed(requestId)}`;
const lostRun = () => new IdpError('signin_expired', 'Signing out took too long. You are signed out of this service; close your browser to finish.', 'SAML logout run not found');

export function createSingleLogout(deps: SingleLogoutDeps): SingleLogout {
  const now = deps.now ?? Date.now;
  const base = deps.config.server.baseUrl;
  const endpointUrls = [`${base}${SAML_SLO_PATH}`, `${base}/adfs/ls/`, `${base}/adfs/ls`];
  const wsfedRps = deps.config.relyingParties.filter((rp): rp is WsfedRelyingPartyConfig => rp.protocol === 'wsfed');
  const recordTtl = Math.max(deps.config.session.lifetime, deps.config.session.keepMeSignedInLifetime);
  const signer = (sp: ServiceProvider) => ({ key: deps.keys.current, algorithm: sp.signatureAlgorithm });

  /** Sends a SAML message to an SP's logout endpoint with the binding it takes. */
  const send = (req: Request, res: Response, sp: ServiceProvider, url: string, parameter: 'SAMLRequest' | 'SAMLResponse',
    write: (signed: boolean) => string, relayState: string | undefined) => {
    const binding = sp.singleLogout!.binding;
    if (binding === 'redirect') return res.redirect(303, redirectBindingUrl(url, { parameter, xml: write(false), relayState }, signer(sp)));
    const form = postBindingForm(url, { parameter, xml: write(true), relayState });
    deps.render.post(req, res, form);
  };

  const save = (run: LogoutRun) => deps.store.set(runKey(run.id), run, RUN_TTL_MS);

  /** One step of the walk: the next SP, else the cleanup frames, else the answer to the initiator. */
  const step = async (req: Request, res: Response, run: LogoutRun): Promise<void> => {
    const [next, ...rest] = run.remaining;
    if (next) {
      const sp = deps.serviceProviders.get(next.entityId);
      if (!sp?.singleLogout) return step(req, res, { ...run, remaining: rest, partial: true });
      const requestId = `_${randomUUID()}`;
      await save({ ...run, remaining: rest, awaiting: { requestId, entityId: sp.entityId } });
      await deps.store.set(awaitingKey(requestId), run.id, RUN_TTL_MS);
      req.log.info({ entityId: sp.entityId, requestId, binding: sp.singleLogout.binding }, 'saml: LogoutRequest sent');
      const issued = new Date(now());
      return send(req, res, sp, sp.singleLogout.url, 'SAMLRequest', (signed) => writeLogoutRequest({
        id: requestId, issueInstant: issued, issuer: next.issuer, destination: sp.singleLogout!.url,
        nameId: next.nameId, sessionIndexes: [run.sessionIndex], notOnOrAfter: new Date(issued.getTime() + REQUEST_VALIDITY_MS),
      }, signed ? signer(sp) : undefined), undefined);
    }
    const { initiator } = run;
    const showCleanup = () => {
      if (run.cleanup.length > 0) narrowPageCsp(res, 'frame-src', run.cleanup.map((c) => c.cleanupUrl));
    };
    if (initiator.kind === 'page') {
      await deps.store.delete(runKey(run.id));
      if (run.cleanup.length === 0) return initiator.continueUrl ? res.redirect(303, initiator.continueUrl) : deps.render(req, res, 'signed-out');
      // The page's script follows Continue once every cleanup frame has loaded.
      showCleanup();
      return deps.render(req, res, 'wsfed-signed-out', { applications: run.cleanup, continueUrl: initiator.continueUrl });
    }
    if (run.cleanup.length > 0 && !run.cleanupShown) {
      // The SP that asked waits for its LogoutResponse: after the frames, back here to send it.
      await save({ ...run, cleanupShown: true, awaiting: undefined });
      showCleanup();
      return deps.render(req, res, 'wsfed-signed-out', { applications: run.cleanup, continueUrl: `${CONTINUE_PATH}?run=${run.id}` });
    }
    await deps.store.delete(runKey(run.id));
    const sp = deps.serviceProviders.get(initiator.entityId);
    if (!sp?.singleLogout) return deps.render(req, res, 'signed-out');
    return respondTo(req, res, sp, initiator.requestId, run.partial ? PARTIAL_LOGOUT : { code: SAML_STATUS.success }, initiator.relayState);
  };

  const respondTo = (req: Request, res: Response, sp: ServiceProvider, inResponseTo: string, status: Saml2Status, relayState: string | undefined) => {
    const url = sp.singleLogout!.responseUrl;
    req.log.info({ entityId: sp.entityId, inResponseTo, status: status.subCode ?? status.code }, 'saml: LogoutResponse sent');
    return send(req, res, sp, url, 'SAMLResponse', (signed) => writeLogoutResponse({
      id: `_${randomUUID()}`, issueInstant: new Date(now()), issuer: issuerFor(sp), destination: url, inResponseTo, status,
    }, signed ? signer(sp) : undefined), relayState);
  };

  const signOut: SingleLogout['signOut'] = async (req, res, initiator, except) => {
    const session: SsoSession | undefined = await deps.pipeline.signOut(deps.cookie.read(req), requestContext(req), initiator.kind === 'saml' ? initiator.entityId : initiator.application);
    deps.cookie.clear(res);
    const reference = session?.ssoId ?? '';
    const applications = session?.relyingParties ?? [];
    // Server to server, beside the browser's walk: the browser must not wait for an application that is down.
    if (session && deps.onSignedOut && !(initiator.kind === 'page' && initiator.backchannelSent)) {
      deps.onSignedOut(reference, applications.filter((a) => a !== except))
        .catch((err: unknown) => req.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'sign-out: notifying applications failed'));
    }
    const remaining: ParticipantRecord[] = [];
    for (const id of applications) {
      if (id === except) continue;
      const record = await deps.store.take<ParticipantRecord>(participantKey(reference, id));
      if (record) remaining.push(record);
    }
    const run: LogoutRun = {
      id: randomBytes(24).toString('base64url'),
      initiator,
      sessionIndex: deps.sessionIndex(reference),
      remaining,
      cleanup: wsfedCleanupTargets(wsfedRps, applications, except),
      cleanupShown: false,
      partial: false,
      awaiting: undefined,
    };
    await step(req, res, run);
  };

  const logoutRequest = async (req: Request, res: Response, message: InboundSamlMessage, sp: ServiceProvider) => {
    const verified = verifySamlMessage(message, sp, LOGOUT_REQUEST);
    const element = verified.element;
    if (firstChild(element, SAML_NS.assertion, 'Issuer')?.textContent?.trim() !== sp.entityId) throw unknownSp(sp.entityId);
    const requestId = element.getAttribute('ID') ?? '';
    if (!ID.test(requestId)) throw badLogout('LogoutRequest ID missing or malformed');
    const destination = element.getAttribute('Destination') || undefined;
    if (destination === undefined ? verified.signed : !endpointUrls.includes(destination)) throw badLogout(`LogoutRequest Destination ${destination ?? '(none, on a signed request)'}`);
    // An answer goes only to the SP's registered logout URL; an SP without one gets the page.
    const refuse = (status: Saml2Status, detail: string) => {
      if (sp.singleLogout) return respondTo(req, res, sp, requestId, status, verified.relayState);
      throw badLogout(detail);
    };
    if (!(await deps.store.setIfAbsent(`saml:logout-request:${hashed(sp.entityId)}:${requestId}`, 1, RUN_TTL_MS))) throw badLogout(`replayed LogoutRequest ${requestId}`);
    const notOnOrAfter = Date.parse(element.getAttribute('NotOnOrAfter') ?? '');
    if (!Number.isNaN(notOnOrAfter) && notOnOrAfter + CLOCK_SKEW_MS < now()) {
      return refuse({ code: SAML_STATUS.requester, subCode: SAML_STATUS.requestDenied, message: 'The LogoutRequest has expired' }, `expired LogoutRequest ${requestId}`);
    }
    const session = await deps.sessions.use(deps.cookie.read(req));
    if (!session) {
      // Nothing to end here (signed out already, or another browser): the SP's own logout stands.
      req.log.info({ entityId: sp.entityId, requestId }, 'saml: LogoutRequest without a session');
      if (sp.singleLogout) return respondTo(req, res, sp, requestId, { code: SAML_STATUS.success }, verified.relayState);
      return deps.render(req, res, 'signed-out');
    }
    // Only an SP this session signed in to, naming the person it was told about, may end it: a
    // request the SP may send unsigned would otherwise sign anyone out from any page (an <img>).
    const record = await deps.store.get<ParticipantRecord>(participantKey(session.ssoId, sp.entityId));
    const nameId = firstChild(element, SAML_NS.assertion, 'NameID')?.textContent?.trim();
    if (!record) return refuse({ code: SAML_STATUS.requester, subCode: SAML_STATUS.unknownPrincipal, message: 'This session did not sign in to the service provider' }, `LogoutRequest from ${sp.entityId}, not a participant of the session`);
    if (record.nameId.value !== nameId) {
      // Entra's LogoutRequest is undocumented (§2.5): its NameID is logged, not required to match.
      if (sp.profile !== 'entra') return refuse({ code: SAML_STATUS.requester, subCode: SAML_STATUS.unknownPrincipal, message: 'The NameID is not this session\'s' }, `LogoutRequest NameID mismatch from ${sp.entityId}`);
      req.log.warn({ entityId: sp.entityId, requestId }, 'saml: Entra\'s LogoutRequest names another NameID than the one sent; signing out the session it took part in');
    }
    if (!sp.singleLogout) {
      // Nowhere registered to answer: the person is signed out and shown the page.
      req.log.info({ entityId: sp.entityId, requestId }, 'saml: LogoutRequest from an SP without a logout URL; answering with the signed-out page');
      return signOut(req, res, { kind: 'page', continueUrl: undefined }, sp.entityId);
    }
    req.log.info({ entityId: sp.entityId, requestId, binding: message.binding, signed: verified.signed }, 'saml: LogoutRequest received');
    await signOut(req, res, { kind: 'saml', entityId: sp.entityId, requestId, relayState: verified.relayState }, sp.entityId);
  };

  const logoutResponse = async (req: Request, res: Response, message: InboundSamlMessage, sp: ServiceProvider) => {
    const verified = verifySamlMessage(message, sp, LOGOUT_RESPONSE);
    const inResponseTo = verified.element.getAttribute('InResponseTo') ?? '';
    const runId = ID.test(inResponseTo) ? await deps.store.take<string>(awaitingKey(inResponseTo)) : undefined;
    const run = runId ? await deps.store.get<LogoutRun>(runKey(runId)) : undefined;
    if (!run || run.awaiting?.requestId !== inResponseTo || run.awaiting.entityId !== sp.entityId) throw lostRun();
    const code = firstChild(firstChild(verified.element, SAML_NS.protocol, 'Status') ?? verified.element, SAML_NS.protocol, 'StatusCode')?.getAttribute('Value');
    const succeeded = code === SAML_STATUS.success;
    req.log.info({ entityId: sp.entityId, inResponseTo, status: code }, 'saml: LogoutResponse received');
    await step(req, res, { ...run, awaiting: undefined, partial: run.partial || !succeeded });
  };

  const handle: SingleLogout['handle'] = async (req, res, message) => {
    const sp = message.issuer === undefined ? undefined : deps.serviceProviders.get(message.issuer);
    if (!sp) throw unknownSp(message.issuer);
    if (message.parameter === 'SAMLRequest') return logoutRequest(req, res, message, sp);
    return logoutResponse(req, res, message, sp);
  };

  const router = Router();
  const endpoint = async (req: Request, res: Response) => {
    const parameter = hasSamlMessage(req, 'SAMLRequest') ? 'SAMLRequest' : hasSamlMessage(req, 'SAMLResponse') ? 'SAMLResponse' : undefined;
    if (!parameter) throw badLogout('no SAMLRequest or SAMLResponse');
    await handle(req, res, readSamlMessage(req, parameter));
  };
  router.get(SAML_SLO_PATH, endpoint);
  router.post(SAML_SLO_PATH, endpoint);
  router.get(CONTINUE_PATH, async (req, res) => {
    const id = queryParam(req, 'run');
    const run = id && RUN_ID.test(id) ? await deps.store.get<LogoutRun>(runKey(id)) : undefined;
    // Only the cleanup page continues by this URL; a walk waiting for an SP's answer continues by that answer.
    if (!run || !run.cleanupShown || run.awaiting) throw lostRun();
    await step(req, res, run);
  });

  return {
    signOut,
    handle,
    router,
    async record(ssoId, participant) {
      await deps.store.set(participantKey(ssoId, participant.entityId), participant, recordTtl);
    },
  };
}

function issuerFor(sp: ServiceProvider): string {
  return sp.profile === 'entra' ? sp.domains[0]!.issuerUri : sp.issuer;
}

function unknownSp(issuer: string | undefined): IdpError {
  return new IdpError('unknown_application', 'The application you came from is not known to this sign-in service.', `unknown SAML issuer ${issuer ?? '(none)'}`);
}

function badLogout(detail: string): IdpError {
  return new IdpError('bad_request', 'The sign-out request could not be understood. Close your browser to finish signing out.', detail);
}
