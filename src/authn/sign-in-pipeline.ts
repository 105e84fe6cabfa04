import { randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../core/constant-time.js';
import type { Audit, AuditEvent } from '../observability/audit.js';
import type { PendingSignIn, SignInRequest } from '../core/pending-signin.js';
import type { AuthMethodKind, DirectoryUser, Principal } from '../core/principal.js';
import { badRequest, DirectoryUnavailableError, IdpError } from '../core/errors.js';
import type { AuthFailure, Directory } from '../directory/directory.js';
import type { StateStore } from '../state/state-store.js';
import { sessionRef, type Sessions, type SsoSession } from '../session/sessions.js';
import type { RateLimiter } from './rate-limit.js';

/**
 * THE authentication pipeline every protocol uses:
 *   start  -> reuse an SSO session that satisfies the request, or park the request as a pending
 *             sign-in and send the person to the sign-in page (or fail at once when passive);
 *   submitPassword -> rate limits, the directory, a new session, then back to the protocol;
 *   finish -> the protocol's resume (the form's POST, or its resume endpoint) takes the pending sign-in (once) with its principal.
 * Kerberos completes a pending sign-in as another way (at the protocol endpoint or at /login).
 */
export interface RequestContext {
  readonly clientIp: string;
  readonly requestId: string;
  /**
   * The pending sign-in a Negotiate challenge was sent for, when the browser repeats its request
   * with a ticket: start() resumes it rather than storing (and counting) a second one.
   */
  readonly challengedPendingId?: string;
}

export type StartResult =
  | { readonly kind: 'signed-in'; readonly principal: Principal; readonly ssoId: string }
  | { readonly kind: 'login-required'; readonly pending: PendingSignIn }
  | { readonly kind: 'interaction-required' };

export type PasswordFailure = AuthFailure | 'rate-limited' | 'directory-unavailable';

/** A sign-in the protocol answers now: its pending sign-in used up, the person's principal and sign-on. */
export interface FinishedSignIn {
  readonly pending: PendingSignIn;
  readonly principal: Principal;
  readonly ssoId: string;
}

export type PasswordResult =
  | { readonly kind: 'signed-in'; readonly sessionId: string; readonly session: SsoSession; readonly resumeUrl: string; readonly finished?: FinishedSignIn }
  | { readonly kind: 'failed'; readonly reason: PasswordFailure }
  | { readonly kind: 'expired' };

export interface SignInPipeline {
  start(request: SignInRequest, sessionId: string | undefined, ctx: RequestContext): Promise<StartResult>;
  /**
   * The principal of the session when it satisfies the request, changing nothing (no audit event,
   * no application recorded): for a caller that must check more before it answers (the SAML fast lane).
   */
  peek(request: Omit<SignInRequest, 'resumePath'>, sessionId: string | undefined): Promise<Principal | undefined>;
  pending(id: string | undefined): Promise<PendingSignIn | undefined>;
  submitPassword(input: PasswordInput, ctx: RequestContext): Promise<PasswordResult>;
  /**
   * Checks a user name and password without a browser or a session (WS-Trust usernamemixed): the
   * same rate limits, directory outcomes and audit events as the sign-in form.
   */
  authenticatePassword(input: ActivePasswordInput, ctx: RequestContext): Promise<ActiveResult>;
  /** Completes a pending sign-in with a principal a Kerberos ticket proved. */
  submitKerberos(input: KerberosInput, ctx: RequestContext): Promise<PasswordResult>;
  /**
   * Checks the account a Kerberos ticket proved, without a browser or a session (WS-Trust
   * windowstransport): the directory's account rules and the audit events of submitKerberos.
   */
  authenticateKerberos(input: ActiveKerberosInput, ctx: RequestContext): Promise<ActiveResult>;
  /** A completed pending sign-in, used up by the browser that completed it (GET resumePath?pending=). */
  finish(pendingId: string | undefined, sessionId: string | undefined): Promise<FinishedSignIn | undefined>;
  /** Ends the session; `application` is where the sign-out came from (for the audit event). */
  signOut(sessionId: string | undefined, ctx: RequestContext, application?: string): Promise<SsoSession | undefined>;
}

export type ActiveResult =
  | { readonly kind: 'authenticated'; readonly principal: Principal }
  | { readonly kind: 'failed'; readonly reason: PasswordFailure };

export interface ActivePasswordInput {
  readonly login: string;
  readonly password: string;
  readonly application: string;
  /**
   * Every address the request presents, for smart lockout (all must be familiar to the user):
   * the client's, and behind a trusted proxy the ones it reports (x-ms-forwarded-client-ip...).
   * Default: [ctx.clientIp].
   */
  readonly addresses?: readonly string[];
}

/**
 * How a sign-in ends: finishNow when the caller answers with the protocol's page in the same
 * request (the pending sign-in is used up at once); else it is stored completed, for the
 * protocol's resume request to finish (an OIDC interaction).
 */
interface Completion {
  /** As pipeline.pending() returned it for this request. */
  readonly pending: PendingSignIn;
  readonly finishNow: boolean;
  /** The session cookie the browser already had (replaced: a sign-in always gets a new id). */
  readonly previousSessionId: string | undefined;
}

export interface PasswordInput extends Completion {
  readonly login: string;
  readonly password: string;
  readonly keepMeSignedIn: boolean;
}

export interface KerberosInput extends Completion {
  /** alice@EXAMPLE.COM, as the ticket names it (audited). */
  readonly principal: string;
  /** The directory login the principal maps to. */
  readonly login: string;
}

export interface ActiveKerberosInput {
  /** HOST$@EXAMPLE.COM or alice@EXAMPLE.COM, as the ticket names it (audited). */
  readonly principal: string;
  /** The directory login the principal maps to. */
  readonly login: string;
  readonly application: string;
}

export interface PipelineDeps {
  readonly directory: Directory;
  readonly sessions: Sessions;
  readonly store: StateStore;
  readonly rateLimiter: RateLimiter;
  readonly audit: Audit;
  readonly pendingLifetimeMs: number;
  readonly allowKeepMeSignedIn: boolean;
  readonly now?: () => number;
}

const pendingKey = (id: string) => `pending:${id}`;
/** The longest user name the form accepts (AD UPNs are at most 1024, real ones far shorter). */
export const MAX_LOGIN_LENGTH = 256;
const MAX_PENDING_BYTES = 16_384;
const PENDING_ID = /^[A-Za-z0-9_-]{22,64}$/;

/** Whether a typed login names this user (UPN, mail, sAMAccountName, DOMAIN\\name), ignoring case. */
function isSameUser(user: DirectoryUser, login: string): boolean {
  const typed = login.trim().toLowerCase();
  const name = typed.includes('\\') ? typed.slice(typed.indexOf('\\') + 1) : typed;
  return [user.userPrincipalName, user.mail, user.sAMAccountName, user.username].some((v) => v !== undefined && (v.toLowerCase() === typed || v.toLowerCase() === name));
}

/**
 * Whether a pending sign-in, not yet completed, was stored for this same request (a browser
 * repeating it with its Kerberos ticket): the request as start() stores it, field for field (both
 * sides are built by start() from a SignInRequest, so their properties come in the same order).
 */
function isSameRequest(pending: PendingSignIn, request: SignInRequest): boolean {
  if (pending.completedBySession !== undefined) return false;
  const { id: _id, createdAt: _createdAt, completedBySession: _completed, ...asked } = pending;
  return JSON.stringify(asked) === JSON.stringify(request);
}

/** Whether an existing session may answer this request without asking the person again. */
export function sessionSatisfies(session: SsoSession, request: Omit<SignInRequest, 'resumePath'>, now: number = Date.now()): boolean {
  if (request.forceFresh) return false;
  if (request.maxAuthAgeMs !== undefined && now - Date.parse(session.principal.authentication.instant) > request.maxAuthAgeMs) return false;
  // Someone typed another user's name at the application (a shared PC): not this session's user.
  if (request.loginHint && !isSameUser(session.principal.user, request.loginHint)) return false;
  if (request.requiredMethod === 'password' && session.principal.authentication.kind !== 'password') return false;
  return true;
}

export function createSignInPipeline(deps: PipelineDeps): SignInPipeline {
  const now = deps.now ?? Date.now;
  const { sessions, store, audit } = deps;

  const loadPending = async (id: string | undefined) =>
    id && PENDING_ID.test(id) ? store.get<PendingSignIn>(pendingKey(id)) : undefined;

  /** The person proved who they are: a new session (never the old id), then back to the protocol. */
  const complete = async ({ pending, finishNow, previousSessionId }: Completion, user: DirectoryUser, kind: AuthMethodKind, persistent: boolean,
    base: Omit<AuditEvent, 'type'>): Promise<PasswordResult> => {
    // Used up first, once: of two posts of one form, the second gets "expired" and changes nothing
    // (no session made or ended). Past this point a failure means starting again, as any expiry.
    if (finishNow && !(await store.take(pendingKey(pending.id)))) {
      audit({ ...base, type: 'signin.failure', outcome: 'already-used' });
      return { kind: 'expired' };
    }
    const previous = await sessions.destroy(previousSessionId);
    // The same person signing in again (ForceAuthn, wfresh=0) continues the sign-on: the applications
    // already told stay on the list for sign-out. Someone else starts their own.
    const continues = previous && previous.principal.user.dn === user.dn ? previous : undefined;
    const principal: Principal = { user, authentication: { kind, instant: new Date(now()).toISOString() } };
    const { id: sessionId, session } = await sessions.create(principal, {
      persistent: persistent && deps.allowKeepMeSignedIn, continues, relyingParty: pending.application,
    });
    let finished: FinishedSignIn | undefined;
    if (finishNow) {
      finished = { pending, principal, ssoId: session.ssoId };
    } else {
      const completed: PendingSignIn = { ...pending, completedBySession: sessionRef(sessionId) };
      await store.set(pendingKey(pending.id), completed, Math.max(1, pending.createdAt + deps.pendingLifetimeMs - now()));
    }
    audit({ ...base, type: 'signin.success', user: user.userPrincipalName ?? user.username });
    return { kind: 'signed-in', sessionId, session, resumeUrl: `${pending.resumePath}?pending=${encodeURIComponent(pending.id)}`, finished };
  };

  /** Rate limits (counted before the directory is asked), the directory, the failure counts, the audit of a failure. */
  const checkPassword = async (login: string, password: string, addresses: readonly string[], base: Omit<AuditEvent, 'type'>)
    : Promise<{ kind: 'ok'; user: DirectoryUser } | { kind: 'failed'; reason: PasswordFailure }> => {
    // The refusal says which limit, never whether the password was right: it was not checked.
    const refused = (outcome: string) => {
      audit({ type: 'signin.rate_limited', ...base, outcome });
      return { kind: 'failed', reason: 'rate-limited' } as const;
    };
    if (!(await deps.rateLimiter.allowAttempt(base.clientIp ?? ''))) return refused('address-limit');
    const attempt = await deps.rateLimiter.claimUserAttempt(login, addresses);
    if (!attempt.allowed) return refused(`${attempt.location}-lockout`);
    let outcome;
    try {
      outcome = await deps.directory.authenticate(login, password);
    } catch (err) {
      if (!(err instanceof DirectoryUnavailableError)) throw err;
      audit({ type: 'signin.directory_unavailable', ...base, outcome: err.detail });
      return { kind: 'failed', reason: 'directory-unavailable' };
    }
    if (outcome.outcome !== 'success') {
      // Other outcomes than a wrong password come only with the right password (AD masks them).
      if (outcome.outcome === 'invalid-credentials') await deps.rateLimiter.recordFailure(login, outcome.account);
      else if (outcome.outcome !== 'locked-out') await deps.rateLimiter.recordSuccess(login, outcome.account);
      audit({ type: 'signin.failure', ...base, outcome: outcome.outcome });
      return { kind: 'failed', reason: outcome.outcome };
    }
    await deps.rateLimiter.recordSuccess(login, outcome.user.dn.toLowerCase(), addresses);
    return { kind: 'ok', user: outcome.user };
  };

  /**
   * The KDC proved the password; the directory still decides whether the account may sign in
   * (disabled or locked after the ticket was issued). No rate limit: nothing is guessed here.
   */
  const checkKerberosAccount = async (login: string, base: Omit<AuditEvent, 'type'>)
    : Promise<{ kind: 'ok'; user: DirectoryUser } | { kind: 'failed'; reason: PasswordFailure }> => {
    let outcome;
    try {
      outcome = await deps.directory.checkAccount(login);
    } catch (err) {
      if (!(err instanceof DirectoryUnavailableError)) throw err;
      audit({ type: 'signin.directory_unavailable', ...base, outcome: err.detail });
      return { kind: 'failed', reason: 'directory-unavailable' };
    }
    if (outcome.outcome !== 'success') {
      audit({ type: 'signin.failure', ...base, outcome: outcome.outcome });
      return { kind: 'failed', reason: outcome.outcome };
    }
    return { kind: 'ok', user: outcome.user };
  };

  return {
    async start(request, sessionId, ctx) {
      const session = await sessions.use(sessionId);
      if (session && sessionId && sessionSatisfies(session, request, now())) {
        // Single sign-on to an application already on the list (the common case) writes nothing.
        if (!session.relyingParties.includes(request.application)) await sessions.addRelyingParty(sessionId, request.application);
        audit({ type: 'sso.reused', user: session.principal.user.userPrincipalName ?? session.principal.user.username,
          application: request.application, clientIp: ctx.clientIp, requestId: ctx.requestId });
        return { kind: 'signed-in', principal: session.principal, ssoId: session.ssoId };
      }
      if (request.passive) return { kind: 'interaction-required' };
      const loginHint = request.loginHint && request.loginHint.length <= MAX_LOGIN_LENGTH ? request.loginHint : undefined;
      // Resumed once: of two requests repeated with tickets at once (two tabs share the challenge's
      // cookie), the second starts its own, as it would have without the cookie.
      const challenged = await loadPending(ctx.challengedPendingId);
      if (challenged && isSameRequest(challenged, { ...request, loginHint })
        && (await store.setIfAbsent(`${pendingKey(challenged.id)}:resumed`, true, deps.pendingLifetimeMs))) {
        return { kind: 'login-required', pending: challenged };
      }
      // Every start stores state before anyone has authenticated: bound it per address and in size.
      if (!(await deps.rateLimiter.allowStart(ctx.clientIp))) {
        throw new IdpError('rate_limited', 'Too many sign-in attempts. Wait a few minutes, then try again.', `sign-in starts from ${ctx.clientIp}`);
      }
      const pending: PendingSignIn = { ...request, loginHint, id: randomBytes(24).toString('base64url'), createdAt: now() };
      if (JSON.stringify(pending).length > MAX_PENDING_BYTES) throw badRequest('pending sign-in state too large');
      await store.set(pendingKey(pending.id), pending, deps.pendingLifetimeMs);
      return { kind: 'login-required', pending };
    },

    async peek(request, sessionId) {
      const session = await sessions.use(sessionId);
      return session && sessionSatisfies(session, request, now()) ? session.principal : undefined;
    },

    pending: loadPending,

    async submitPassword(input, ctx) {
      const base = { user: input.login, clientIp: ctx.clientIp, application: input.pending.application, requestId: ctx.requestId, method: 'password' };
      const checked = await checkPassword(input.login, input.password, [ctx.clientIp], base);
      if (checked.kind === 'failed') return checked;
      return complete(input, checked.user, 'password', input.keepMeSignedIn, base);
    },

    async authenticatePassword(input, ctx) {
      const base = { user: input.login, clientIp: ctx.clientIp, application: input.application, requestId: ctx.requestId, method: 'password' };
      const checked = await checkPassword(input.login, input.password, input.addresses ?? [ctx.clientIp], base);
      if (checked.kind === 'failed') return checked;
      audit({ ...base, type: 'signin.success', user: checked.user.userPrincipalName ?? checked.user.username });
      return { kind: 'authenticated', principal: { user: checked.user, authentication: { kind: 'password', instant: new Date(now()).toISOString() } } };
    },

    async submitKerberos(input, ctx) {
      const base = { user: input.principal, clientIp: ctx.clientIp, application: input.pending.application, requestId: ctx.requestId, method: 'kerberos' };
      const checked = await checkKerberosAccount(input.login, base);
      if (checked.kind === 'failed') return checked;
      return complete(input, checked.user, 'kerberos', false, base);
    },

    async authenticateKerberos(input, ctx) {
      const base = { user: input.principal, clientIp: ctx.clientIp, application: input.application, requestId: ctx.requestId, method: 'kerberos' };
      const checked = await checkKerberosAccount(input.login, base);
      if (checked.kind === 'failed') return checked;
      audit({ ...base, type: 'signin.success', user: checked.user.userPrincipalName ?? checked.user.username });
      return { kind: 'authenticated', principal: { user: checked.user, authentication: { kind: 'kerberos', instant: new Date(now()).toISOString() } } };
    },

    async finish(pendingId, sessionId) {
      if (!pendingId || !PENDING_ID.test(pendingId) || !sessionId) return undefined;
      const pending = await store.get<PendingSignIn>(pendingKey(pendingId));
      // Only the browser that signed in may finish: the pending id alone (it is in a URL) is not
      // enough, and another browser presenting it must not use it up either.
      if (!pending?.completedBySession || !constantTimeEqual(pending.completedBySession, sessionRef(sessionId))) return undefined;
      const session = await sessions.use(sessionId);
      if (!session || !(await store.take(pendingKey(pendingId)))) return undefined;
      return { pending, principal: session.principal, ssoId: session.ssoId };
    },

    async signOut(sessionId, ctx, application = 'portal') {
      const session = await sessions.destroy(sessionId);
      if (session) {
        audit({ type: 'signout', user: session.principal.user.userPrincipalName ?? session.principal.user.username,
          clientIp: ctx.clientIp, requestId: ctx.requestId, application });
      }
      return session;
    },
  };
}
