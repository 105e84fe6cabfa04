import { Router, type Request, type Response } from 'express';
import { IdpError } from '../core/errors.js';
import { csrfToken, verifyCsrf, verifyCsrfToken } from '../http/csrf.js';
import { formParam, queryParam } from '../http/params.js';
import { cookieName, readCookie, setCookie } from '../http/cookies.js';
import type { PendingSignIn } from '../core/pending-signin.js';
import type { NegotiateAcceptor } from './kerberos/negotiate-acceptor.js';
import type { NegotiatePolicy } from './kerberos/negotiate-policy.js';
import { NEGOTIATE_COOKIE, requestContext } from '../http/request-context.js';
import type { RenderPage } from '../http/render.js';
import type { SessionCookie } from '../http/session-cookie.js';
import { pickMessages } from '../i18n/messages.js';
import type { Sessions } from '../session/sessions.js';
import { MAX_LOGIN_LENGTH, type FinishedSignIn, type PasswordFailure, type SignInPipeline } from './sign-in-pipeline.js';
import type { SignOut } from '../protocols/saml/single-logout.js';
import type { Resumers, ShowSignIn } from './sign-in-steps.js';
import { markResponse } from '../observability/token-mark.js';

/** The sign-in form (/login) and the sign-out page (/logout), shared by every protocol. */
export interface LoginRouteDeps {
  readonly pipeline: SignInPipeline;
  readonly sessions: Sessions;
  readonly cookie: SessionCookie;
  readonly render: RenderPage;
  readonly secure: boolean;
  readonly keepMeSignedIn: boolean;
  readonly passwordChangeUrl: string | undefined;
  /** Display name of an application, for "You are signing in to …". */
  readonly applicationName: (identifier: string) => string;
  /** Seamless Windows sign-in, when authn.kerberos is configured. */
  readonly negotiate?: NegotiateDeps | undefined;
  /** Ends the session and tells its applications (single-logout.ts). */
  readonly signOut: SignOut;
  /** How protocols finish, by resume path: a sign-in's POST is answered with the protocol's page. */
  readonly resumers: Resumers;
}

export interface NegotiateDeps {
  readonly acceptor: NegotiateAcceptor;
  readonly policy: NegotiatePolicy;
}

/** HTTP status per outcome: a person reads the message; a script reads the status. */
const FAILURE_STATUS: Record<PasswordFailure | 'missing', number> = {
  'invalid-credentials': 401, 'locked-out': 403, disabled: 403, 'account-expired': 403, 'password-expired': 403,
  'must-change-password': 403, 'logon-hours': 403, workstation: 403, 'rate-limited': 429, 'directory-unavailable': 503, missing: 400,
};

/** The ticket a browser sent (Authorization: Negotiate …), if it sent one. */
function negotiateToken(req: Request): string | undefined {
  const authorization = req.headers.authorization;
  return authorization !== undefined && /^Negotiate\s/i.test(authorization) ? authorization.slice(10).trim() : undefined;
}

const loginUrl = (pending: PendingSignIn) => `/login?pending=${encodeURIComponent(pending.id)}`;

const signinExpired = () =>
  new IdpError('signin_expired', 'This sign-in took too long or was already used. Go back to the application and start again.', 'unknown or expired pending sign-in');

export function loginRoutes(deps: LoginRouteDeps): { router: Router; showSignIn: ShowSignIn } {
  const router = Router();

  const showForm = (req: Request, res: Response, pendingId: string, application: string, username: string,
    failure?: PasswordFailure | 'missing') => {
    const t = pickMessages(req.headers['accept-language']);
    const error = failure === undefined ? undefined : failure === 'missing' ? t.missingFields : t[failure];
    const offerChange = failure === 'password-expired' || failure === 'must-change-password';
    markResponse(res, { signInForm: true }); // wherever it is shown, the form is no token answer
    deps.render(req, res, 'login', {
      pendingId, application, applicationName: deps.applicationName(application), username, error,
      csrf: csrfToken(req, res, deps.secure), keepMeSignedIn: deps.keepMeSignedIn,
      changePasswordUrl: offerChange ? deps.passwordChangeUrl : undefined,
    }, failure === undefined ? 200 : FAILURE_STATUS[failure]);
  };

  const offersNegotiate = (req: Request, pending: PendingSignIn, negotiate: NegotiateDeps) =>
    negotiate.policy.offer(pending, { ip: requestContext(req).clientIp, userAgent: req.headers['user-agent'] }) && negotiate.acceptor.status().available;

  /** The 401 that asks a browser for its Kerberos ticket; its body moves on to the form, once per pending sign-in. */
  const askForTicket = (req: Request, res: Response, pending: PendingSignIn) => {
    markResponse(res, { signInForm: true });
    setCookie(res, cookieName(NEGOTIATE_COOKIE, deps.secure), pending.id, { secure: deps.secure, maxAgeMs: 5 * 60_000 });
    const formUrl = `${loginUrl(pending)}&negotiate=no`;
    res.set('WWW-Authenticate', 'Negotiate').set('Refresh', `0; url=${formUrl}`);
    deps.render(req, res, 'negotiate', { formUrl }, 401);
  };

  /**
   * The answer to an application's own request when a sign-in is needed, as AD FS answers it: the
   * Kerberos challenge where the policy offers it (the browser repeats the request with its ticket,
   * answered with the token), else the form. /login instead after a POST (SAML's POST binding): a
   * cross-site POST carries no SameSite=Lax cookie, so the form would mint a CSRF cookie that
   * replaces the one a form in another tab depends on; and for the challenge of a one-time request,
   * whose repeat would be refused as a replay.
   */
  const showSignIn: ShowSignIn = async (req, res, pending, request = {}) => {
    const negotiate = deps.negotiate;
    const offered = negotiate !== undefined && offersNegotiate(req, pending, negotiate);
    if (req.method !== 'GET' || (offered && request.oneTime)) {
      res.redirect(303, loginUrl(pending));
      return;
    }
    if (offered) {
      const ticket = negotiateToken(req);
      return ticket === undefined ? askForTicket(req, res, pending) : signInWithKerberos(req, res, pending, ticket, negotiate);
    }
    showForm(req, res, pending.id, pending.application, pending.loginHint ?? '');
  };

  /** The protocol answers in this request where it has registered how (the pending sign-in is then used up at once). */
  const finishesNow = (pending: PendingSignIn) => deps.resumers.has(pending.resumePath);

  /** Signed in: the protocol's answer at once, else a redirect to its resume path. */
  const resume = async (req: Request, res: Response, signedIn: { resumeUrl: string; finished?: FinishedSignIn | undefined }, pending: PendingSignIn) => {
    const answer = deps.resumers.get(pending.resumePath);
    if (answer && signedIn.finished) await answer(req, res, signedIn.finished);
    else res.redirect(303, signedIn.resumeUrl);
  };

  router.get('/login', async (req, res) => {
    const pending = await deps.pipeline.pending(queryParam(req, 'pending'));
    if (!pending) throw signinExpired();
    const negotiate = deps.negotiate;
    if (negotiate) {
      // A ticket counts only where the policy offers Kerberos: never for a request that demands the
      // password or a fresh sign-in, nor from outside the network or an unlisted browser.
      const ticket = negotiateToken(req);
      if (ticket !== undefined && offersNegotiate(req, pending, negotiate)) {
        await signInWithKerberos(req, res, pending, ticket, negotiate);
        return;
      }
      // One attempt per pending sign-in: a browser without a ticket renders the 401's body, which
      // moves on to the form at once (and the cookie and the query both stop a second 401).
      if (offersNegotiate(req, pending, negotiate) && queryParam(req, 'negotiate') !== 'no' && readCookie(req, cookieName(NEGOTIATE_COOKIE, deps.secure)) !== pending.id) {
        askForTicket(req, res, pending);
        return;
      }
    }
    showForm(req, res, pending.id, pending.application, pending.loginHint ?? '');
  });

  /** A browser's Negotiate answer: a Kerberos ticket signs the person in; anything else, the form. */
  const signInWithKerberos = async (req: Request, res: Response, pending: PendingSignIn, token: string, negotiate: NegotiateDeps) => {
    const result = await negotiate.acceptor.accept(token);
    if (!result.ok) {
      req.log.warn({ reason: result.reason, detail: result.detail }, 'kerberos: no sign-in from this Negotiate token; showing the form');
      showForm(req, res, pending.id, pending.application, pending.loginHint ?? '');
      return;
    }
    const login = negotiate.policy.loginFor(result.principal);
    if (!login) {
      req.log.warn({ principal: result.principal }, 'kerberos: a principal of a realm that is not accepted; showing the form');
      showForm(req, res, pending.id, pending.application, pending.loginHint ?? '');
      return;
    }
    const signedIn = await deps.pipeline.submitKerberos({
      pending, finishNow: finishesNow(pending), principal: result.principal, login, previousSessionId: deps.cookie.read(req),
    }, requestContext(req));
    if (signedIn.kind === 'expired') throw signinExpired();
    if (signedIn.kind === 'failed') {
      showForm(req, res, pending.id, pending.application, login, signedIn.reason);
      return;
    }
    // The mutual-authentication token lets the client check it talked to the real service.
    if (result.responseToken) res.set('WWW-Authenticate', `Negotiate ${result.responseToken}`);
    deps.cookie.set(res, signedIn.sessionId, signedIn.session);
    await resume(req, res, signedIn, pending);
  };

  router.post('/login', async (req, res) => {
    verifyCsrf(req, deps.secure);
    const pendingId = formParam(req, 'pending') ?? '';
    const pending = await deps.pipeline.pending(pendingId);
    if (!pending) throw signinExpired();
    const login = (formParam(req, 'UserName') ?? '').trim();
    const password = formParam(req, 'Password') ?? '';
    if (!login || !password || login.length > MAX_LOGIN_LENGTH || password.length > 1024) {
      showForm(req, res, pending.id, pending.application, login.slice(0, MAX_LOGIN_LENGTH), 'missing');
      return;
    }
    const result = await deps.pipeline.submitPassword({
      pending, finishNow: finishesNow(pending), login, password, keepMeSignedIn: formParam(req, 'Kmsi') === 'true', previousSessionId: deps.cookie.read(req),
    }, requestContext(req));
    if (result.kind === 'expired') throw signinExpired();
    if (result.kind === 'failed') {
      showForm(req, res, pending.id, pending.application, login, result.reason);
      return;
    }
    deps.cookie.set(res, result.sessionId, result.session);
    await resume(req, res, result, pending);
  });

  router.get('/logout', async (req, res) => {
    const session = await deps.sessions.use(deps.cookie.read(req));
    deps.render(req, res, 'signout', {
      user: session ? session.principal.user.userPrincipalName ?? session.principal.user.username : undefined,
      csrf: session?.csrfToken,
    });
  });

  router.post('/logout', async (req, res) => {
    const id = deps.cookie.read(req);
    const session = await deps.sessions.use(id);
    if (session) verifyCsrfToken(req, session.csrfToken);
    // Signs out of every application of the session too (SAML single logout, WS-Fed cleanup).
    await deps.signOut(req, res, { kind: 'page', continueUrl: undefined });
  });

  return { router, showSignIn };
}
