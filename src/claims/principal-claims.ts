import { AuthMethod, type Principal } from '../core/principal.js';
import { ClaimType } from './claim-types.js';

/**
 * The first step of the claims pipeline: every claim fedgate can say about a principal, from the
 * attributes cached in the session (no directory call). Per-application release rules and
 * protocol-specific names (the protocol issues) select and rename from this list.
 */
export interface Claim {
  /** Short name for people (the portal) and for rules in the configuration. */
  readonly name: string;
  readonly type: string;
  readonly values: readonly string[];
}

export function principalClaims(principal: Principal, netbiosDomain?: string): Claim[] {
  const u = principal.user;
  const method = principal.authentication.kind === 'kerberos' ? AuthMethod.windows : AuthMethod.password;
  const candidates: [string, string, readonly (string | undefined)[]][] = [
    ['upn', ClaimType.upn, [u.userPrincipalName]],
    ['immutableid', ClaimType.immutableId, [u.immutableId]],
    ['email', ClaimType.email, [u.mail]],
    ['name', ClaimType.name, [u.displayName]],
    ['givenname', ClaimType.givenName, [u.givenName]],
    ['surname', ClaimType.surname, [u.sn]],
    ['windowsaccountname', ClaimType.windowsAccountName, [u.sAMAccountName && netbiosDomain ? `${netbiosDomain}\\${u.sAMAccountName}` : u.sAMAccountName]],
    ['primarysid', ClaimType.primarySid, [u.objectSid]],
    ['objectguid', ClaimType.objectGuid, [u.objectGuid]],
    ['groups', ClaimType.group, u.groups],
    ['authenticationmethod', ClaimType.authenticationMethod, [method]],
    ['authnmethodsreferences', ClaimType.authnMethodsReferences, [method]],
    ['authenticationinstant', ClaimType.authenticationInstant, [principal.authentication.instant]],
  ];
  return candidates
    .map(([name, type, values]) => ({ name, type, values: values.filter((v): v is string => typeof v === 'string' && v.length > 0) }))
    .filter((c) => c.values.length > 0);
}
