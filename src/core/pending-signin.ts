/**
 * What an application asked for, in protocol-neutral terms. A protocol module turns its request
 * (wsignin1.0, AuthnRequest, /authorize) into one of these and hands it to the sign-in pipeline;
 * after the person has signed in, the protocol finishes with the protocol state it stored here:
 * at once, in the answer to the sign-in form's POST, when it registered how (authn/sign-in-steps.ts),
 * else after the browser is sent to `resumePath?pending=<id>`.
 */
export interface SignInRequest {
  /** Relying party identifier, or "portal" for fedgate's own pages. */
  readonly application: string;
  /** Path (on fedgate) the protocol finishes at; the pipeline appends `?pending=<id>`. */
  readonly resumePath: string;
  /** The application demands a new authentication (wfresh=0, prompt=login, ForceAuthn). */
  readonly forceFresh?: boolean;
  /** The authentication may be at most this old (wfresh=N minutes, max_age); else a fresh sign-in. */
  readonly maxAuthAgeMs?: number;
  /** No interaction allowed (IsPassive, prompt=none): without a session, fail instead of asking. */
  readonly passive?: boolean;
  /** The application demands this method (e.g. wauth=.../password). */
  readonly requiredMethod?: 'password';
  /** Pre-fills the username field (username, login_hint). */
  readonly loginHint?: string;
  /** Opaque, JSON-serialisable state the protocol needs to finish (wctx, RelayState, ...). */
  readonly protocolState?: unknown;
}

export interface PendingSignIn extends SignInRequest {
  readonly id: string;
  readonly createdAt: number;
  /** Set once the person has signed in for this request: which session satisfied it. */
  readonly completedBySession?: string;
}
