import { InvalidCredentialsError } from 'ldapts';
import { describe, expect, it } from 'vitest';
import type { AuthFailure } from '../../src/directory/directory.js';
import { adBindSubcode, outcomeOfRefusedBind } from '../../src/directory/ldap/ad-bind-result.js';

/** The diagnostic message AD and Samba send with LDAP result 49 (entra-federation.md §8.1). */
const adMessage = (data: string) => `80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data ${data}, v1db1`;

/** What fedgate actually receives: ldapts' InvalidCredentialsError, which appends the result code. */
const asLdaptsError = (diagnostic?: string) => new InvalidCredentialsError(diagnostic).message;

const TABLE: ReadonlyArray<readonly [string, AuthFailure]> = [
  ['525', 'invalid-credentials'], // user not found: no enumeration
  ['52e', 'invalid-credentials'], // bad password
  ['530', 'logon-hours'],
  ['531', 'workstation'],
  ['532', 'password-expired'],
  ['533', 'disabled'],
  ['701', 'account-expired'],
  ['773', 'must-change-password'],
  ['775', 'locked-out'],
];

describe('AD bind result', () => {
  for (const [data, outcome] of TABLE) {
    it(`bind result: AD sub-code data ${data} means ${outcome}`, () => {
      expect(adBindSubcode(adMessage(data))).toBe(data);
      expect(outcomeOfRefusedBind(adMessage(data))).toBe(outcome);
      expect(outcomeOfRefusedBind(asLdaptsError(adMessage(data)))).toBe(outcome);
    });
  }

  it('bind result: an unknown user and a wrong password give the same outcome (no user enumeration)', () => {
    expect(outcomeOfRefusedBind(adMessage('525'))).toBe(outcomeOfRefusedBind(adMessage('52e')));
  });

  it('bind result: upper-case hex sub-codes are read like lower-case ones', () => {
    expect(adBindSubcode(adMessage('52E'))).toBe('52e');
    expect(outcomeOfRefusedBind(adMessage('52E'))).toBe('invalid-credentials');
    expect(outcomeOfRefusedBind('80090308: LDAPERR: DSID-0C0903A9, COMMENT: ACCEPTSECURITYCONTEXT ERROR, DATA 775, V1DB1')).toBe('locked-out');
  });

  it('bind result: the message as Samba and Windows versions differ in DSID and version still parses', () => {
    expect(outcomeOfRefusedBind('80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data 533, v2580')).toBe('disabled');
    expect(outcomeOfRefusedBind('80090308: LdapErr: DSID-0C090447, comment: AcceptSecurityContext error, data 773, v3839\u0000')).toBe('must-change-password');
  });

  it("bind result: OpenLDAP's bare result 49 without a sub-code is invalid credentials", () => {
    expect(adBindSubcode(asLdaptsError())).toBeUndefined();
    expect(outcomeOfRefusedBind(asLdaptsError())).toBe('invalid-credentials');
    expect(outcomeOfRefusedBind(asLdaptsError(''))).toBe('invalid-credentials');
    expect(outcomeOfRefusedBind('')).toBe('invalid-credentials');
    expect(outcomeOfRefusedBind('Invalid credentials')).toBe('invalid-credentials');
  });

  it('bind result: an unknown sub-code is plain invalid credentials', () => {
    expect(adBindSubcode(adMessage('568'))).toBe('568');
    expect(outcomeOfRefusedBind(adMessage('568'))).toBe('invalid-credentials');
  });

  it('bind result: "data" inside another word is not a sub-code', () => {
    expect(adBindSubcode('metadata 533 is unrelated')).toBeUndefined();
    expect(outcomeOfRefusedBind('metadata 533 is unrelated')).toBe('invalid-credentials');
  });
});
