import type { AuthFailure } from '../directory.js';

/**
 * Account state from AD's attributes (entra-federation.md §8.2). AD itself refuses the bind of a
 * disabled, expired or locked account with a sub-code; OpenLDAP stores these attributes as inert
 * data, so fedgate reads them after a successful bind and refuses the same way. Both kinds of
 * directory therefore give the same outcomes.
 */
export const STATE_ATTRIBUTES = ['userAccountControl', 'accountExpires', 'pwdLastSet', 'msDS-User-Account-Control-Computed'] as const;

const UF_ACCOUNTDISABLE = 0x2;
/** Only in msDS-User-Account-Control-Computed: AD does not maintain it in userAccountControl. */
const UF_LOCKOUT = 0x10;
const UF_DONT_EXPIRE_PASSWD = 0x10000;
const UF_WORKSTATION_TRUST_ACCOUNT = 0x1000;
const UF_SERVER_TRUST_ACCOUNT = 0x2000;
const UF_SMARTCARD_REQUIRED = 0x40000;
/** MS-SAMR PasswordMustChange: never for these, whatever pwdLastSet says (entra-federation.md §8.2). */
const NEVER_MUST_CHANGE = UF_DONT_EXPIRE_PASSWD | UF_SMARTCARD_REQUIRED | UF_WORKSTATION_TRUST_ACCOUNT | UF_SERVER_TRUST_ACCOUNT;
/** Only in msDS-User-Account-Control-Computed. */
const UF_PASSWORD_EXPIRED = 0x800000;

/** FILETIME values meaning "never" for accountExpires. */
const NEVER = new Set(['0', '9223372036854775807']);
/** 100-ns intervals between 1601-01-01 and 1970-01-01 (FILETIME epoch vs Unix epoch). */
const FILETIME_UNIX_OFFSET = 116_444_736_000_000_000n;

export function filetimeToDate(value: string): Date | undefined {
  if (!/^-?\d+$/.test(value) || NEVER.has(value)) return undefined;
  const ft = BigInt(value);
  if (ft < 0n) return undefined;
  return new Date(Number((ft - FILETIME_UNIX_OFFSET) / 10_000n));
}

export type AccountStateAttributes = Partial<Record<(typeof STATE_ATTRIBUTES)[number], string>>;

function flags(value: string | undefined): number {
  const n = value === undefined ? 0 : Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : 0;
}

/** Why an account that proved its password may still not sign in, or undefined when it may. */
export function accountStateFailure(attrs: AccountStateAttributes, now: Date = new Date()): AuthFailure | undefined {
  const uac = flags(attrs.userAccountControl);
  const computed = flags(attrs['msDS-User-Account-Control-Computed']);
  if (computed & UF_LOCKOUT) return 'locked-out';
  if (uac & UF_ACCOUNTDISABLE) return 'disabled';
  const expires = attrs.accountExpires === undefined ? undefined : filetimeToDate(attrs.accountExpires);
  if (expires && expires.getTime() <= now.getTime()) return 'account-expired';
  if (attrs.pwdLastSet === '0' && !(uac & NEVER_MUST_CHANGE)) return 'must-change-password';
  if (computed & UF_PASSWORD_EXPIRED) return 'password-expired';
  return undefined;
}
