import { describe, expect, it } from 'vitest';
import { accountStateFailure, filetimeToDate, STATE_ATTRIBUTES, type AccountStateAttributes } from '../../src/directory/ldap/account-state.js';

/** entra-federation.md §8.2: userAccountControl and msDS-User-Account-Control-Computed bits. */
const ACCOUNTDISABLE = 0x2;
const LOCKOUT = 0x10;
const NORMAL_ACCOUNT = 0x200;
const WORKSTATION_TRUST_ACCOUNT = 0x1000;
const DONT_EXPIRE_PASSWORD = 0x10000;
const SMARTCARD_REQUIRED = 0x40000;
const PASSWORD_EXPIRED = 0x800000;

const NEVER = '9223372036854775807';
const NOW = new Date('2025-06-15T12:00:00.000Z');
const DAY = 86_400_000;

/** A Date as an AD FILETIME: 100-ns intervals since 1601-01-01 UTC. */
function filetime(date: Date): string {
  return (BigInt(date.getTime()) * 10_000n + 116_444_736_000_000_000n).toString();
}

/** A healthy AD user: enabled, never expires, password set a week ago, nothing computed. */
function account(overrides: AccountStateAttributes = {}): AccountStateAttributes {
  return {
    userAccountControl: String(NORMAL_ACCOUNT),
    accountExpires: NEVER,
    pwdLastSet: filetime(new Date(NOW.getTime() - 7 * DAY)),
    'msDS-User-Account-Control-Computed': '0',
    ...overrides,
  };
}

const state = (overrides: AccountStateAttributes = {}) => accountStateFailure(account(overrides), NOW);

describe('ldap account state', () => {
  it('account state: the attributes read after a bind include the constructed msDS-User-Account-Control-Computed', () => {
    expect([...STATE_ATTRIBUTES]).toEqual(['userAccountControl', 'accountExpires', 'pwdLastSet', 'msDS-User-Account-Control-Computed']);
  });

  it('account state: a normal enabled account with a current password may sign in', () => {
    expect(state()).toBeUndefined();
  });

  it('account state: an entry without any of the attributes (plain OpenLDAP) may sign in', () => {
    expect(accountStateFailure({}, NOW)).toBeUndefined();
  });

  it('account state: ACCOUNTDISABLE (0x2) means disabled', () => {
    expect(state({ userAccountControl: String(NORMAL_ACCOUNT | ACCOUNTDISABLE) })).toBe('disabled');
    expect(state({ userAccountControl: '514' })).toBe('disabled');
    expect(state({ userAccountControl: String(NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD | ACCOUNTDISABLE) })).toBe('disabled');
  });

  it('account state: an accountExpires in the past means the account expired', () => {
    expect(state({ accountExpires: filetime(new Date(NOW.getTime() - DAY)) })).toBe('account-expired');
    expect(state({ accountExpires: filetime(new Date('2001-01-01T00:00:00Z')) })).toBe('account-expired');
  });

  it('account state: an account expires at the very moment accountExpires names', () => {
    expect(state({ accountExpires: filetime(NOW) })).toBe('account-expired');
    expect(state({ accountExpires: filetime(new Date(NOW.getTime() + 1)) })).toBeUndefined();
  });

  it('account state: an accountExpires in the future does not stop the sign-in', () => {
    expect(state({ accountExpires: filetime(new Date(NOW.getTime() + DAY)) })).toBeUndefined();
  });

  it('account state: accountExpires 0 and 9223372036854775807 both mean never', () => {
    expect(state({ accountExpires: '0' })).toBeUndefined();
    expect(state({ accountExpires: NEVER })).toBeUndefined();
  });

  it('account state: pwdLastSet 0 without DONT_EXPIRE_PASSWORD means the password must be changed', () => {
    expect(state({ pwdLastSet: '0' })).toBe('must-change-password');
  });

  it('account state: pwdLastSet 0 with DONT_EXPIRE_PASSWORD does not force a change', () => {
    expect(state({ pwdLastSet: '0', userAccountControl: String(NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD) })).toBeUndefined();
  });

  it('account state: a pwdLastSet other than 0 does not force a change', () => {
    expect(state({ pwdLastSet: filetime(new Date(NOW.getTime() - 400 * DAY)) })).toBeUndefined();
    expect(state({ pwdLastSet: undefined })).toBeUndefined();
  });

  // MS-SAMR PasswordMustChange (entra-federation.md §8.2): never for SMARTCARD_REQUIRED or trust
  // accounts, so AD itself lets such an account bind with pwdLastSet 0 and fedgate must agree.
  it('account state: pwdLastSet 0 on a SMARTCARD_REQUIRED account does not force a change', () => {
    expect(state({ pwdLastSet: '0', userAccountControl: String(NORMAL_ACCOUNT | SMARTCARD_REQUIRED) })).toBeUndefined();
  });

  it('account state: pwdLastSet 0 on a workstation trust account does not force a change', () => {
    expect(state({ pwdLastSet: '0', userAccountControl: String(WORKSTATION_TRUST_ACCOUNT) })).toBeUndefined();
  });

  it('account state: the LOCKOUT bit (0x10) of msDS-User-Account-Control-Computed means locked out', () => {
    expect(state({ 'msDS-User-Account-Control-Computed': String(LOCKOUT) })).toBe('locked-out');
  });

  it('account state: the PASSWORD_EXPIRED bit (0x800000) of msDS-User-Account-Control-Computed means the password expired', () => {
    expect(state({ 'msDS-User-Account-Control-Computed': String(PASSWORD_EXPIRED) })).toBe('password-expired');
    expect(state({ 'msDS-User-Account-Control-Computed': '8388608' })).toBe('password-expired');
  });

  it('account state: lockout and password-expired are read from the computed attribute, not from userAccountControl', () => {
    // AD does not maintain these two bits in userAccountControl (§8.2).
    expect(state({ userAccountControl: String(NORMAL_ACCOUNT | LOCKOUT) })).toBeUndefined();
    expect(state({ userAccountControl: String(NORMAL_ACCOUNT | PASSWORD_EXPIRED) })).toBeUndefined();
  });

  it('account state: a disabled or expired account is refused as such, not sent to change its password', () => {
    expect(state({ pwdLastSet: '0', userAccountControl: String(NORMAL_ACCOUNT | ACCOUNTDISABLE) })).toBe('disabled');
    expect(state({ pwdLastSet: '0', accountExpires: filetime(new Date(NOW.getTime() - DAY)) })).toBe('account-expired');
    expect(state({ userAccountControl: String(NORMAL_ACCOUNT | ACCOUNTDISABLE), 'msDS-User-Account-Control-Computed': String(PASSWORD_EXPIRED) }))
      .toBe('disabled');
  });

  it('account state: unparsable flag values count as no flags', () => {
    expect(state({ userAccountControl: 'garbage', 'msDS-User-Account-Control-Computed': '' })).toBeUndefined();
  });

  it('account state: the current time is the default for "now"', () => {
    expect(accountStateFailure({ accountExpires: filetime(new Date(Date.now() - DAY)) })).toBe('account-expired');
    expect(accountStateFailure({ accountExpires: filetime(new Date(Date.now() + DAY)) })).toBeUndefined();
  });
});

describe('FILETIME', () => {
  it('filetime: 100-ns intervals since 1601 convert to the right UTC instant', () => {
    expect(filetimeToDate('132539328000000000')?.toISOString()).toBe('2021-01-01T00:00:00.000Z');
    expect(filetimeToDate('116444736000000000')?.toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect(filetimeToDate(filetime(NOW))?.toISOString()).toBe(NOW.toISOString());
  });

  it('filetime: precision beyond the millisecond is dropped, not rounded up', () => {
    expect(filetimeToDate('132539328000009999')?.toISOString()).toBe('2021-01-01T00:00:00.000Z');
    expect(filetimeToDate('132539328000010000')?.toISOString()).toBe('2021-01-01T00:00:00.001Z');
  });

  it('filetime: 0 and 9223372036854775807 are "never", not a date', () => {
    expect(filetimeToDate('0')).toBeUndefined();
    expect(filetimeToDate(NEVER)).toBeUndefined();
  });

  it('filetime: negative or non-numeric values are not a date', () => {
    expect(filetimeToDate('-1')).toBeUndefined();
    expect(filetimeToDate('')).toBeUndefined();
    expect(filetimeToDate('20250101000000.0Z')).toBeUndefined();
    expect(filetimeToDate('1e18')).toBeUndefined();
  });
});
