import type { Element } from '@xmldom/xmldom';
import { SAML_NAMEID_FORMATS, type SamlNameIdFormat } from '../../config/schema.js';
import { IdpError } from '../../core/errors.js';
import type { SignInRequest } from '../../core/pending-signin.js';
import type { AuthMethodKind } from '../../core/principal.js';
import { firstChild } from './inbound-message.js';
import { SAML_AUTHN_CONTEXT, SAML_BINDING, SAML_NAMEID_FORMAT, SAML_NS, SAML_STATUS } from './saml-constants.js';
import type { ServiceProvider } from './service-provider.js';

/**
 * An AuthnRequest (saml-core §3.4), read from the element verifySamlMessage handed back. The ACS is
 * settled first: until it is known to be the SP's own, every problem is the error page (nothing is
 * sent anywhere); after that, problems the SP should hear about become a status Response to it.
 */

/** What the protocol keeps in the pending sign-in to answer after the sign-in page. */
export interface SamlSignInState {
  readonly protocol: 'saml';
  readonly entityId: string;
  /** A registered ACS of the SP. */
  readonly acsUrl: string;
  /** Absent for an unsolicited (IdP-initiated) response. */
  readonly requestId: string | undefined;
  readonly relayState: string | undefined;
  readonly nameIdFormat: SamlNameIdFormat;
  /** How the person may have proved who they are (RequestedAuthnContext). */
  readonly acceptedMethods: readonly AuthMethodKind[];
  /** The class a password sign-in is stated as: PasswordProtectedTransport, or Password when that exact class was asked for. */
  readonly passwordContextClass: string;
}

export interface StatusAnswer {
  readonly code: string;
  readonly subCode?: string;
  readonly message: string;
}

export type AuthnRequestOutcome =
  | { readonly kind: 'sign-in'; readonly state: SamlSignInState; readonly request: Omit<SignInRequest, 'resumePath'> }
  | { readonly kind: 'status'; readonly state: SamlSignInState; readonly status: StatusAnswer };

export interface AuthnRequestContext {
  /** The URLs this request may name as its Destination (the endpoint it arrived at). */
  readonly endpointUrls: readonly string[];
  readonly signed: boolean;
  readonly relayState: string | undefined;
  readonly now: number;
}

/** How old an AuthnRequest may be, and how far a sender's clock may run ahead. */
export const MAX_REQUEST_AGE_MS = 10 * 60_000;
export const CLOCK_SKEW_MS = 3 * 60_000;
const ID = /^[A-Za-z_][A-Za-z0-9._-]{0,255}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** What each way of signing in proves, and how strong we rank it (IdP-defined, saml-core §3.3.2.2.1). */
const METHOD_CLASS: Readonly<Record<AuthMethodKind, string>> = {
  password: SAML_AUTHN_CONTEXT.passwordProtectedTransport,
  kerberos: SAML_AUTHN_CONTEXT.kerberos,
};
const CLASS_RANK: Readonly<Record<string, number>> = {
  [SAML_AUTHN_CONTEXT.unspecified]: 0,
  [SAML_AUTHN_CONTEXT.password]: 1,
  [SAML_AUTHN_CONTEXT.passwordProtectedTransport]: 2,
  [SAML_AUTHN_CONTEXT.kerberos]: 2,
};
/** A class we do not offer (MFA, smartcard, ...) ranks above everything we can do. */
const UNREACHABLE = 99;

/** The AuthnContextClassRef that states truthfully how the person signed in. */
export function authnContextClassOf(kind: AuthMethodKind, state: Pick<SamlSignInState, 'passwordContextClass'>): string {
  return kind === 'password' ? state.passwordContextClass : METHOD_CLASS[kind];
}

const pageError = (detail: string) => new IdpError('bad_request', 'The application sent a sign-in request this service cannot accept.', detail);

/** The ACS the response goes to: the named URL or index if registered, else the default (Entra names none, §2.2). */
export function resolveAcs(request: Element, sp: ServiceProvider): string {
  const url = request.getAttribute('AssertionConsumerServiceURL') || undefined;
  const index = request.getAttribute('AssertionConsumerServiceIndex') || undefined;
  if (url !== undefined && index !== undefined) throw pageError('AuthnRequest names both an ACS URL and an index');
  if (url !== undefined) {
    // Exact match only: a prefix or same-host rule is how tokens leak to an attacker's page.
    const acs = sp.assertionConsumerServices.find((a) => a.url === url);
    if (!acs) throw new IdpError('unregistered_reply_url', 'The application asked to send your sign-in to an address it has not registered.', `ACS ${url} is not registered for ${sp.entityId}`);
    return acs.url;
  }
  if (index !== undefined) {
    const acs = /^\d{1,5}$/.test(index) ? sp.assertionConsumerServices.find((a) => a.index === Number(index)) : undefined;
    if (!acs) throw new IdpError('unregistered_reply_url', 'The application asked to send your sign-in to an address it has not registered.', `ACS index ${index} is not registered for ${sp.entityId}`);
    return acs.url;
  }
  return sp.assertionConsumerServices[0]!.url;
}

export function readAuthnRequest(request: Element, sp: ServiceProvider, ctx: AuthnRequestContext): AuthnRequestOutcome {
  const id = request.getAttribute('ID') ?? '';
  if (!ID.test(id)) throw pageError('AuthnRequest ID missing or not an NCName of at most 256 characters');
  const acsUrl = resolveAcs(request, sp);
  const destination = request.getAttribute('Destination') || undefined;
  // A signed request must say where it is going, so that one meant for another IdP cannot be replayed here (bindings §3.4.5.2, §3.5.5.2).
  if (destination === undefined ? ctx.signed : !ctx.endpointUrls.includes(destination)) {
    throw pageError(`AuthnRequest Destination ${destination ?? '(none, on a signed request)'} is not this endpoint`);
  }

  const base = { protocol: 'saml' as const, entityId: sp.entityId, acsUrl, requestId: id, relayState: ctx.relayState };
  const fail = (status: StatusAnswer): AuthnRequestOutcome => ({
    kind: 'status', status, state: { ...base, nameIdFormat: sp.nameIdFormat, acceptedMethods: [], passwordContextClass: METHOD_CLASS.password },
  });

  if (request.getAttribute('Version') !== '2.0') return fail({ code: SAML_STATUS.versionMismatch, message: 'Only SAML 2.0 is supported' });
  const issued = request.getAttribute('IssueInstant') ?? '';
  const issuedAt = DATE_TIME.test(issued) ? Date.parse(issued) : Number.NaN;
  if (Number.isNaN(issuedAt)) return fail({ code: SAML_STATUS.requester, message: 'IssueInstant is missing or malformed' });
  if (issuedAt > ctx.now + CLOCK_SKEW_MS || issuedAt < ctx.now - MAX_REQUEST_AGE_MS - CLOCK_SKEW_MS) {
    return fail({ code: SAML_STATUS.requester, subCode: SAML_STATUS.requestDenied, message: 'The request is too old or from the future: check the clocks' });
  }
  const binding = request.getAttribute('ProtocolBinding') || undefined;
  if (binding !== undefined && binding !== SAML_BINDING.post) {
    return fail({ code: SAML_STATUS.requester, subCode: SAML_STATUS.requestUnsupported, message: 'Responses are sent with the HTTP-POST binding only' });
  }

  const nameIdFormat = requestedNameIdFormat(request, sp);
  if (nameIdFormat === undefined) return fail({ code: SAML_STATUS.requester, subCode: SAML_STATUS.invalidNameIdPolicy, message: 'The requested NameID format is not available to this service provider' });
  const { methods: acceptedMethods, passwordContextClass } = requestedMethods(request);
  if (acceptedMethods.length === 0) return fail({ code: SAML_STATUS.requester, subCode: SAML_STATUS.noAuthnContext, message: 'The requested authentication context cannot be met' });

  const forceAuthn = xsBoolean(request.getAttribute('ForceAuthn'));
  const isPassive = xsBoolean(request.getAttribute('IsPassive'));
  const state: SamlSignInState = { ...base, nameIdFormat, acceptedMethods, passwordContextClass };
  return {
    kind: 'sign-in',
    state,
    request: {
      application: sp.entityId,
      forceFresh: forceAuthn,
      passive: isPassive,
      // Only the password proves a password-class context; Kerberos-only is checked when finishing.
      requiredMethod: acceptedMethods.includes('kerberos') ? undefined : 'password',
      protocolState: state,
    },
  };
}

function xsBoolean(value: string | null): boolean {
  return value === 'true' || value === '1';
}

const FORMAT_NAMES = new Map<string, SamlNameIdFormat>(Object.entries(SAML_NAMEID_FORMATS).map(([name, uri]) => [uri, name as SamlNameIdFormat]));

/** The NameID format to send, or undefined when the request asks for one this SP may not have. */
function requestedNameIdFormat(request: Element, sp: ServiceProvider): SamlNameIdFormat | undefined {
  const policy = firstChild(request, SAML_NS.protocol, 'NameIDPolicy');
  const format = policy?.getAttribute('Format') || undefined;
  const qualifier = policy?.getAttribute('SPNameQualifier') || undefined;
  // Affiliations are not supported: a NameID qualified for another entity would be a different person's pseudonym space.
  if (qualifier !== undefined && qualifier !== sp.entityId) return undefined;
  if (format === undefined || format === SAML_NAMEID_FORMAT.unspecified) return sp.nameIdFormat;
  const name = FORMAT_NAMES.get(format);
  return name !== undefined && sp.allowedNameIdFormats.includes(name) ? name : undefined;
}

/** The ways of signing in that satisfy RequestedAuthnContext (saml-core §3.3.2.2.1); all when absent. */
function requestedMethods(request: Element): { methods: AuthMethodKind[]; passwordContextClass: string } {
  const all: AuthMethodKind[] = ['password', 'kerberos'];
  const none = { methods: [], passwordContextClass: METHOD_CLASS.password };
  const requested = firstChild(request, SAML_NS.protocol, 'RequestedAuthnContext');
  if (!requested) return { methods: all, passwordContextClass: METHOD_CLASS.password };
  const classes: string[] = [];
  let declRefs = false;
  for (let n = requested.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== 1) continue;
    const e = n as Element;
    if (e.namespaceURI === SAML_NS.assertion && e.localName === 'AuthnContextClassRef') classes.push((e.textContent ?? '').trim());
    else declRefs = true;
  }
  // Declarations are never matched: fedgate states classes only.
  if (declRefs || classes.length === 0) return none;
  const rank = (c: string) => CLASS_RANK[c] ?? UNREACHABLE;
  const comparison = requested.getAttribute('Comparison') || 'exact';
  // A password over TLS is PasswordProtectedTransport; an SP asking for exactly Password gets that (weaker) statement.
  const passwordContextClass = comparison === 'exact' && !classes.includes(METHOD_CLASS.password) && classes.includes(SAML_AUTHN_CONTEXT.password)
    ? SAML_AUTHN_CONTEXT.password : METHOD_CLASS.password;
  const satisfies = (kind: AuthMethodKind): boolean => {
    const ours = rank(METHOD_CLASS[kind]);
    switch (comparison) {
      case 'exact': return classes.includes(kind === 'password' ? passwordContextClass : METHOD_CLASS[kind]);
      case 'minimum': return classes.some((c) => ours >= rank(c));
      case 'better': return classes.every((c) => ours > rank(c));
      case 'maximum': return classes.some((c) => ours <= rank(c) && rank(c) !== UNREACHABLE);
      default: return false;
    }
  };
  return { methods: all.filter(satisfies), passwordContextClass };
}
