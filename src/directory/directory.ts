import type { DirectoryUser } from '../core/principal.js';

/**
 * THE directory interface. Every backend (LDAP/AD, the demo file) passes one conformance suite
 * (test/integration/directory-conformance.ts).
 *
 * Contract:
 * - Expected outcomes are values (`AuthOutcome`); a directory that cannot be asked throws
 *   DirectoryUnavailableError. An unknown user and a wrong password are the same outcome, so no
 *   one can enumerate accounts.
 * - Account state (disabled, expired, ...) is only revealed after the right password, as AD does,
 *   except `locked-out`, which AD reports regardless.
 * - `login` is what the person typed: `alice@example.com`, `EXAMPLE\alice` or `alice`.
 */
export interface Directory {
  /** Checks a password. Never opens a connection per call (LDAP: pooled binds). */
  authenticate(login: string, password: string): Promise<AuthOutcome>;
  /** Looks a user up without a password (Kerberos principals, SSO refresh). */
  findUser(login: string): Promise<DirectoryUser | undefined>;
  /**
   * Signs in a user whose password something else proved (a Kerberos ticket): the same account
   * rules as `authenticate` (disabled, expired, locked out, must change password), no password.
   * An unknown login is 'invalid-credentials'.
   */
  checkAccount(login: string): Promise<AuthOutcome>;
  /** Throws DirectoryUnavailableError unless at least one server answers. For /readyz. */
  checkHealth(): Promise<void>;
  /** A short human description for the home page and logs (no secrets). */
  describe(): string;
  close(): Promise<void>;
}

export type AuthFailure =
  | 'invalid-credentials'
  | 'locked-out'
  | 'disabled'
  | 'account-expired'
  | 'password-expired'
  | 'must-change-password'
  | 'logon-hours'
  | 'workstation';

export type AuthOutcome =
  | { readonly outcome: 'success'; readonly user: DirectoryUser }
  | {
      readonly outcome: AuthFailure;
      readonly user?: undefined;
      /**
       * The account the login resolved to (a lower-case DN), when there is one: lets the sign-in
       * pipeline count failures per account whatever spelling was typed. Never shown to anyone.
       */
      readonly account?: string;
    };

export const AUTH_FAILURES: readonly AuthFailure[] = [
  'invalid-credentials',
  'locked-out',
  'disabled',
  'account-expired',
  'password-expired',
  'must-change-password',
  'logon-hours',
  'workstation',
];

/** How a typed login splits: `EXAMPLE\alice` -> domain + name; `alice@x` stays whole. */
export interface ParsedLogin {
  readonly kind: 'upn' | 'down-level' | 'plain';
  readonly value: string;
  readonly domain?: string;
}

export function parseLogin(login: string): ParsedLogin {
  const trimmed = login.trim();
  const backslash = trimmed.indexOf('\\');
  if (backslash > 0) {
    return { kind: 'down-level', domain: trimmed.slice(0, backslash), value: trimmed.slice(backslash + 1) };
  }
  if (trimmed.includes('@')) return { kind: 'upn', value: trimmed };
  return { kind: 'plain', value: trimmed };
}
