import type { AuthFailure } from '../directory.js';

/**
 * Active Directory explains a refused simple bind (LDAP result 49) with a Win32 sub-code in the
 * diagnostic message: `80090308: LdapErr: DSID-..., comment: AcceptSecurityContext error, data 533, v...`
 * (entra-federation.md §8.1). OpenLDAP sends no sub-code: its 49 is always a wrong password or an
 * unknown user, and account state is read after a successful bind instead (account-state.ts).
 */
const AD_BIND_SUBCODES: Readonly<Record<string, AuthFailure>> = {
  '525': 'invalid-credentials', // no such user: same answer as a wrong password (no enumeration)
  '52e': 'invalid-credentials',
  '530': 'logon-hours',
  '531': 'workstation',
  '532': 'password-expired',
  '533': 'disabled',
  '701': 'account-expired',
  '773': 'must-change-password',
  '775': 'locked-out',
};

/** The sub-code in an AD bind error message, lower case (`52e`), if there is one. */
export function adBindSubcode(message: string): string | undefined {
  return /\bdata ([0-9a-f]{3,8})\b/i.exec(message)?.[1]?.toLowerCase();
}

/** Maps a result-49 diagnostic to an outcome; anything unknown is plain invalid credentials. */
export function outcomeOfRefusedBind(message: string): AuthFailure {
  const code = adBindSubcode(message);
  return (code !== undefined ? AD_BIND_SUBCODES[code] : undefined) ?? 'invalid-credentials';
}
