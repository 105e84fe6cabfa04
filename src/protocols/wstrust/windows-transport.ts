import type { Request, RequestHandler, Response } from 'express';
import type { NegotiateDeps } from '../../authn/login-routes.js';
import type { PasswordFailure } from '../../authn/sign-in-pipeline.js';
import { requestContext } from '../../http/request-context.js';
import { activeClientAddresses } from './client-addresses.js';
import type { RelyingPartyLookup } from './relying-party.js';
import { readRst } from './rst.js';
import { writeIssueResponse } from './rstr.js';
import { soapEndpoint, type SoapHandler } from './soap-endpoint.js';
import { SoapFault } from './soap-fault.js';
import { sendFault } from './soap-http.js';
import type { TrustVersion } from './trust-version.js';
import { checkTimestamp } from './ws-security.js';
import type { WsTrustRouteDeps } from './wstrust-routes.js';

/**
 * windowstransport (entra-federation.md §3.1, §6.2): the caller is proved by Kerberos at the HTTP
 * layer (Negotiate/SPNEGO), not in the SOAP message. Hybrid join sends the computer's own ticket
 * (HOST$@REALM) and gets the device token; a user's ticket gets the user token with accounttype
 * User. Intranet only, as AD FS publishes it: refused from anywhere else before any challenge.
 */

/** The principal the ticket proved, from the Negotiate step to the SOAP handler of the same request. */
const proved = new WeakMap<Request, string>();

/** A refusal before the SOAP message is read: logged with the request id, never with the token. */
function refuse(req: Request, res: Response, endpoint: string, fault: SoapFault): void {
  req.log.warn({ endpoint, fault: fault.kind, status: fault.options.status, detail: fault.detail }, 'wstrust: refused');
  sendFault(res, fault);
}

/** 401 with the Negotiate challenge; the body is the one FailedAuthentication fault, nothing more. */
function challenge(req: Request, res: Response, endpoint: string, detail: string): void {
  res.set('WWW-Authenticate', 'Negotiate');
  refuse(req, res, endpoint, new SoapFault('failed-authentication', detail, { status: 401 }));
}

/**
 * The HTTP layer: intranet check, then the Negotiate token. Only Kerberos is accepted: an NTLM
 * token (a client without a ticket for fedgate's SPN) is refused like a missing one.
 */
function negotiateOnIntranet(deps: WsTrustRouteDeps, negotiate: NegotiateDeps, endpoint: string): RequestHandler {
  return async (req, res, next) => {
    // Every address the request presents must be internal: a trusted proxy's forwarded client
    // address from outside makes the request an outside one.
    const addresses = activeClientAddresses(req, deps.config);
    if (!addresses.every((a) => deps.isInternal(a))) {
      refuse(req, res, endpoint, new SoapFault('request-failed', `windowstransport from outside the internal networks (${addresses.join(', ')})`, { status: 403 }));
      return;
    }
    const status = negotiate.acceptor.status();
    if (!status.available) {
      refuse(req, res, endpoint, new SoapFault('receiver', `Kerberos is unavailable: ${status.detail}`, { status: 503 }));
      return;
    }
    const token = /^Negotiate\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined) {
      challenge(req, res, endpoint, 'no Negotiate Authorization header');
      return;
    }
    const result = await negotiate.acceptor.accept(token);
    if (!result.ok) {
      challenge(req, res, endpoint, `Negotiate token refused (${result.reason}): ${result.detail}`);
      return;
    }
    // The mutual-authentication token lets the client check it talked to the real service.
    if (result.responseToken) res.set('WWW-Authenticate', `Negotiate ${result.responseToken}`);
    proved.set(req, result.principal);
    next();
  };
}

/**
 * The directory login of a principal: a computer (NAME$) by its sAMAccountName whatever the
 * principal mapping (computers have no UPN), anyone else as authn.kerberos says.
 */
function loginOf(negotiate: NegotiateDeps, principal: string): string | undefined {
  const login = negotiate.policy.loginFor(principal);
  if (login === undefined) return undefined;
  const name = principal.slice(0, principal.lastIndexOf('@'));
  return name.endsWith('$') ? name : login;
}

function accountFault(reason: PasswordFailure, principal: string): SoapFault {
  if (reason === 'directory-unavailable') return new SoapFault('receiver', reason);
  // An unknown computer is most often one the configured userObjectFilter does not match.
  const hint = reason === 'invalid-credentials' && principal.includes('$@') ? ' (does directory.userObjectFilter match computers?)' : '';
  return new SoapFault('failed-authentication', `${principal}: ${reason}${hint}`);
}

function issueForPrincipal(deps: WsTrustRouteDeps, negotiate: NegotiateDeps, relyingParty: RelyingPartyLookup, version: TrustVersion): SoapHandler {
  const now = deps.now ?? Date.now;
  return async ({ req, message, transportActions, log }) => {
    const request = readRst(message, version, transportActions);
    const rp = relyingParty(request.appliesTo);
    log.relyingParty = rp.identifier;
    // Kerberos proved the caller; a password here would be ignored, and the client must not think it was checked.
    if (request.security?.usernameToken) throw new SoapFault('invalid-security', 'a UsernameToken at windowstransport');
    if (request.security?.timestamp) checkTimestamp(request.security.timestamp, now(), deps.config.wsTrust.clockSkew);

    const principal = proved.get(req);
    if (principal === undefined) throw new SoapFault('receiver', 'no Kerberos principal for this request');
    log.principal = principal;
    const login = loginOf(negotiate, principal);
    if (login === undefined) throw new SoapFault('failed-authentication', `${principal}: a realm or kind of principal that is not accepted`);
    const ctx = requestContext(req);
    const result = await deps.pipeline.authenticateKerberos({ principal, login, application: rp.identifier }, ctx);
    if (result.kind === 'failed') throw accountFault(result.reason, principal);
    const issued = deps.issue.assertion(result.principal, rp, { insideCorporateNetwork: true, windowsTransport: true });
    log.assertionId = issued.assertionId;
    log.accountType = result.principal.user.accountType;
    return writeIssueResponse({ version, token: issued, appliesTo: rp.identifier, relatesTo: request.messageId }, new Date(now()));
  };
}

/** The handlers of one windowstransport endpoint (POST). */
export function windowsTransport(deps: WsTrustRouteDeps, negotiate: NegotiateDeps, relyingParty: RelyingPartyLookup, version: TrustVersion) {
  const endpoint = `${version.path}/windowstransport`;
  return [negotiateOnIntranet(deps, negotiate, endpoint), ...soapEndpoint(endpoint, issueForPrincipal(deps, negotiate, relyingParty, version))];
}
