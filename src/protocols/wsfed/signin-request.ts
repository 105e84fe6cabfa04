import type { WsfedRelyingPartyConfig } from '../../config/schema.js';
import { IdpError } from '../../core/errors.js';
import type { SignInRequest } from '../../core/pending-signin.js';

/**
 * A wsignin1.0 request (entra-federation.md §1.1, §6.3), checked before anything else happens:
 * the realm must be registered and the reply URL must be one of its own. Nothing is ever sent to
 * an unverified destination, so every failure here is the error page.
 */
export interface WsfedParams {
  readonly wtrealm?: string | undefined;
  readonly wreply?: string | undefined;
  readonly wctx?: string | undefined;
  readonly wfresh?: string | undefined;
  readonly wauth?: string | undefined;
  readonly prompt?: string | undefined;
  readonly username?: string | undefined;
  readonly login_hint?: string | undefined;
}

/** What the protocol keeps in the pending sign-in to finish after the sign-in page. */
export interface WsfedState {
  /** Which protocol parked this pending sign-in: resume refuses another protocol's state. */
  readonly protocol: 'wsfed';
  readonly realm: string;
  readonly replyUrl: string;
  /** Echoed byte for byte (§1.2). */
  readonly wctx: string | undefined;
}

export interface WsfedSignIn {
  readonly rp: WsfedRelyingPartyConfig;
  readonly state: WsfedState;
  readonly request: Omit<SignInRequest, 'resumePath'>;
}

const PASSWORD_METHODS = new Set([
  'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password',
  'urn:oasis:names:tc:SAML:1.0:am:password',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
]);
const MFA_METHODS = new Set([
  'http://schemas.microsoft.com/claims/multipleauthn',
  'http://schemas.microsoft.com/claims/wiaormultiauthn',
]);

const unsupported = (message: string, detail: string) => new IdpError('unsupported_request', message, detail);

export function parseSignIn(params: WsfedParams, relyingParties: readonly WsfedRelyingPartyConfig[]): WsfedSignIn {
  const realm = params.wtrealm;
  if (!realm) throw new IdpError('bad_request', 'The request could not be understood.', 'wsignin1.0 without wtrealm');
  const rp = relyingParties.find((r) => r.identifier === realm);
  if (!rp) throw new IdpError('unknown_application', 'The application you came from is not known to this sign-in service.', `unknown wtrealm ${realm}`);
  // Exact match only: a prefix or a same-host rule is how open redirects start.
  if (params.wreply !== undefined && !rp.replyUrls.includes(params.wreply)) {
    throw new IdpError('unregistered_reply_url', 'The application asked to send your sign-in to an address it has not registered.',
      `wreply ${params.wreply} is not registered for ${realm}`);
  }
  const replyUrl = params.wreply ?? rp.replyUrls[0]!;
  // wctx must come back byte for byte (§1.2), and a browser posting a form rewrites CR, LF and NUL:
  // refuse what cannot round-trip rather than return it changed.
  if (params.wctx !== undefined && /[\u0000-\u0008\u000a-\u001f\u007f]/.test(params.wctx)) {
    throw new IdpError('bad_request', 'The request could not be understood.', 'wctx holds control characters that cannot be posted back unchanged');
  }

  let requiredMethod: SignInRequest['requiredMethod'];
  if (params.wauth !== undefined && params.wauth !== '') {
    if (MFA_METHODS.has(params.wauth)) {
      // Never claim MFA that was not done: refuse clearly until fedgate offers a second factor.
      throw unsupported('This application asks for multi-factor authentication, which this sign-in service does not offer yet. Contact your help desk.',
        `wauth ${params.wauth} (MFA) requested by ${realm}`);
    }
    if (!PASSWORD_METHODS.has(params.wauth)) {
      throw unsupported('This application asks for a sign-in method this service does not offer.', `unsupported wauth ${params.wauth} from ${realm}`);
    }
    requiredMethod = 'password';
  }

  // wfresh=0 (or prompt=login, Entra's nativeSupport) demands a new sign-in; wfresh=N minutes, a recent one.
  // prompt is a space-separated list (OIDC's form, which Entra's nativeSupport passes through).
  let forceFresh = (params.prompt ?? '').toLowerCase().split(/\s+/).includes('login');
  let maxAuthAgeMs: number | undefined;
  if (params.wfresh !== undefined && params.wfresh !== '') {
    if (!/^\d{1,9}$/.test(params.wfresh)) throw new IdpError('bad_request', 'The request could not be understood.', `wfresh ${params.wfresh}`);
    const minutes = Number(params.wfresh);
    if (minutes === 0) forceFresh = true;
    else maxAuthAgeMs = minutes * 60_000;
  }

  return {
    rp,
    state: { protocol: 'wsfed', realm, replyUrl, wctx: params.wctx },
    request: {
      application: realm,
      forceFresh,
      maxAuthAgeMs,
      requiredMethod,
      loginHint: params.username || params.login_hint || undefined,
      protocolState: { protocol: 'wsfed', realm, replyUrl, wctx: params.wctx } satisfies WsfedState,
    },
  };
}
