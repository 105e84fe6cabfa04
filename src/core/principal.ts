/**
 * The protocol-neutral result of authentication: who the user is (a snapshot of the directory
 * attributes the claims need, cached in the session so SSO never touches the directory) and how
 * and when they proved it.
 */

/** What a directory knows about a user, normalised across AD, OpenLDAP and the demo file. */
export interface DirectoryUser {
  /** Distinguished name (or the file directory's own key). */
  readonly dn: string;
  /** The login name the user is known by (sAMAccountName, else uid, else the part before @). */
  readonly username: string;
  readonly userPrincipalName?: string;
  readonly sAMAccountName?: string;
  readonly mail?: string;
  readonly displayName?: string;
  readonly givenName?: string;
  readonly sn?: string;
  /** objectGUID in its display form (a1b2c3d4-e5f6-...), from the raw little-endian bytes. */
  readonly objectGuid?: string;
  /** objectSid as a string SID (S-1-5-21-...). */
  readonly objectSid?: string;
  /** Entra ImmutableID: base64 of the raw source-anchor bytes (entra-federation.md §7). */
  readonly immutableId?: string;
  /**
   * 'computer' for a computer account (AD objectClass computer, Kerberos principal NAME$): hybrid
   * join issues it device claims (entra-federation.md §6.2). Absent (sessions from before) = user.
   */
  readonly accountType?: 'user' | 'computer';
  /** AD primaryGroupID: 515 (Domain Computers) makes a computer domain-joined (accounttype DJ, §6.2). */
  readonly primaryGroupId?: number;
  /** Group names (cn), nested memberships included. */
  readonly groups: readonly string[];
  /** Group DNs, nested memberships included. */
  readonly groupDns: readonly string[];
}

/** URIs of the authentication methods (entra-federation.md §1.6). */
export const AuthMethod = {
  passwordProtectedTransport: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
  password: 'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password',
  windows: 'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/windows',
  multipleAuthn: 'http://schemas.microsoft.com/claims/multipleauthn',
} as const;

export type AuthMethodKind = 'password' | 'kerberos';

export interface Authentication {
  readonly kind: AuthMethodKind;
  /** When the first factor was proved (ISO 8601); Entra sign-in frequency depends on it. */
  readonly instant: string;
}

export interface Principal {
  readonly user: DirectoryUser;
  readonly authentication: Authentication;
}
