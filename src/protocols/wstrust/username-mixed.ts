import type { Principal } from '../../core/principal.js';
import type { PasswordFailure } from '../../authn/sign-in-pipeline.js';
import { MAX_LOGIN_LENGTH } from '../../authn/sign-in-pipeline.js';
import { requestContext } from '../../http/request-context.js';
import { activeClientAddresses } from './client-addresses.js';
import type { RelyingPartyLookup } from './relying-party.js';
import { readRst } from './rst.js';
import { writeIssueResponse } from './rstr.js';
import type { SoapHandler } from './soap-endpoint.js';
import { SoapFault } from './soap-fault.js';
import type { TrustVersion } from './trust-version.js';
import { checkTimestamp } from './ws-security.js';
import type { WsTrustRouteDeps } from './wstrust-routes.js';

/**
 * usernamemixed (entra-federation.md §3.2): the UsernameToken's user name and password checked
 * by the sign-in pipeline (its rate limits, directory outcomes and audit), then the same SAML 1.1
 * token as passive WS-Fed for the relying party AppliesTo names.
 */

/** The sign-in form's bound on passwords: a longer one is not sent to the directory. */
const MAX_PASSWORD_LENGTH = 1024;

/**
 * One fault for every failure that must not tell whether the account exists or what state it is
 * in; only a right password that has expired is told apart (the user can act on it).
 */
function passwordFault(reason: PasswordFailure, passwordChangeUrl: string | undefined): SoapFault {
  if (reason === 'password-expired' || reason === 'must-change-password') {
    return new SoapFault('expired-password', reason, { passwordChangeUrl });
  }
  // AD FS answers 500 for everything, and Exchange reads a fault only from a 500: the directory
  // being down is a Receiver fault, still 500 (see soap-fault.ts).
  if (reason === 'directory-unavailable') return new SoapFault('receiver', reason);
  return new SoapFault('failed-authentication', reason);
}

export function usernameMixed(deps: WsTrustRouteDeps, relyingParty: RelyingPartyLookup, version: TrustVersion): SoapHandler {
  const now = deps.now ?? Date.now;
  return async ({ req, message, transportActions, log }) => {
    const request = readRst(message, version, transportActions);
    const rp = relyingParty(request.appliesTo);
    log.relyingParty = rp.identifier;
    // Security before the directory is asked: a stale or replayed-late request costs nothing.
    if (!request.security) throw new SoapFault('invalid-security', 'no wsse:Security header');
    checkTimestamp(request.security.timestamp, now(), deps.config.wsTrust.clockSkew);
    const token = request.security.usernameToken;
    if (!token) throw new SoapFault('invalid-security', 'no wsse:UsernameToken');
    if (token.username === '' || token.password === '' || token.username.length > MAX_LOGIN_LENGTH || token.password.length > MAX_PASSWORD_LENGTH) {
      throw new SoapFault('failed-authentication', 'empty or oversized user name or password');
    }

    const ctx = requestContext(req);
    // Smart lockout: the attempt is familiar only if every address it presents is (Exchange's client included).
    const addresses = activeClientAddresses(req, deps.config);
    const result = await deps.pipeline.authenticatePassword({ login: token.username, password: token.password, application: rp.identifier, addresses }, ctx);
    if (result.kind === 'failed') throw passwordFault(result.reason, deps.config.branding.passwordChangeUrl);
    const principal: Principal = result.principal;
    const issued = deps.issue.assertion(principal, rp, { insideCorporateNetwork: deps.isInternal(ctx.clientIp) });
    log.assertionId = issued.assertionId;
    return writeIssueResponse({ version, token: issued, appliesTo: rp.identifier, relatesTo: request.messageId }, new Date(now()));
  };
}
