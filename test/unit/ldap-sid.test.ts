import { describe, expect, it } from 'vitest';
import { sidToString } from '../../src/directory/ldap/sid.js';

/**
 * Builds a binary SID the way MS-DTYP 2.4.2.2 lays it out: revision, sub-authority count,
 * 48-bit identifier authority big-endian, then each sub-authority as a little-endian uint32.
 */
function binarySid(revision: number, authority: number, subAuthorities: readonly number[]): Buffer {
  const b = Buffer.alloc(8 + 4 * subAuthorities.length);
  b[0] = revision;
  b[1] = subAuthorities.length;
  b.writeUIntBE(authority, 2, 6);
  subAuthorities.forEach((s, i) => b.writeUInt32LE(s, 8 + 4 * i));
  return b;
}

describe('sid', () => {
  it('sid: a domain user SID written out byte by byte reads as S-1-5-21-…-RID', () => {
    const raw = Buffer.from(
      '01' + '05' + '000000000005' + // revision 1, 5 sub-authorities, authority 5 (NT AUTHORITY)
        '15000000' + // 21
        'dc5cdd3b' + // 0x3bdd5cdc = 1004362972
        '833e2b46' + // 0x462b3e83 = 1177239171
        '82c8a628' + // 0x28a6c882 = 682018946
        'e9030000', // 0x3e9 = 1001
      'hex',
    );
    expect(sidToString(raw)).toBe('S-1-5-21-1004362972-1177239171-682018946-1001');
  });

  it('sid: sub-authorities are little-endian, not big-endian', () => {
    const raw = binarySid(1, 5, [21, 0x01020304, 0x0a0b0c0d, 0x11223344, 500]);
    expect(raw.subarray(12, 16).toString('hex')).toBe('04030201');
    expect(sidToString(raw)).toBe(`S-1-5-21-${0x01020304}-${0x0a0b0c0d}-${0x11223344}-500`);
  });

  it('sid: a sub-authority with the top bit set stays unsigned', () => {
    expect(sidToString(binarySid(1, 5, [21, 0xffffffff, 0x80000000, 1, 1104]))).toBe('S-1-5-21-4294967295-2147483648-1-1104');
  });

  it('sid: well-known SIDs read as their documented strings', () => {
    // BUILTIN\Administrators
    expect(sidToString(Buffer.from('01020000000000052000000020020000', 'hex'))).toBe('S-1-5-32-544');
    // BUILTIN\Users
    expect(sidToString(binarySid(1, 5, [32, 545]))).toBe('S-1-5-32-545');
    // Everyone
    expect(sidToString(Buffer.from('010100000000000100000000', 'hex'))).toBe('S-1-1-0');
    // NT AUTHORITY\SYSTEM
    expect(sidToString(binarySid(1, 5, [18]))).toBe('S-1-5-18');
    // NT AUTHORITY\Authenticated Users
    expect(sidToString(binarySid(1, 5, [11]))).toBe('S-1-5-11');
  });

  it('sid: a SID with no sub-authorities is just S-R-I', () => {
    expect(sidToString(binarySid(1, 5, []))).toBe('S-1-5');
  });

  it('sid: an identifier authority of 2^32 or more is written as 0x and 12 hex digits (MS-DTYP)', () => {
    expect(sidToString(binarySid(1, 2 ** 32, [1]))).toBe('S-1-0x000100000000-1');
    expect(sidToString(binarySid(1, 0x123456789abc, [7]))).toBe('S-1-0x123456789ABC-7');
    expect(sidToString(binarySid(1, 2 ** 32 - 1, [7]))).toBe('S-1-4294967295-7');
  });

  it('sid: a plain Uint8Array is read the same as a Buffer', () => {
    const raw = binarySid(1, 5, [32, 544]);
    expect(sidToString(new Uint8Array(raw))).toBe('S-1-5-32-544');
  });

  it('sid: fewer than 8 bytes are refused', () => {
    expect(() => sidToString(Buffer.alloc(0))).toThrow(/at least 8 bytes/);
    expect(() => sidToString(Buffer.from('01010000000005', 'hex'))).toThrow(/at least 8 bytes, not 7/);
  });

  it('sid: a length that disagrees with the sub-authority count is refused', () => {
    const full = binarySid(1, 5, [21, 1, 2, 3, 1001]);
    // One sub-authority short, one byte short, and trailing bytes.
    expect(() => sidToString(full.subarray(0, full.length - 4))).toThrow(/5 sub-authorities has 28 bytes, not 24/);
    expect(() => sidToString(full.subarray(0, full.length - 1))).toThrow(/not 27/);
    expect(() => sidToString(Buffer.concat([full, Buffer.from([0])]))).toThrow(/not 29/);
    // A count byte claiming sub-authorities that are not there.
    expect(() => sidToString(Buffer.from('0105000000000005', 'hex'))).toThrow(/has 28 bytes, not 8/);
  });

  it('sid: a GUID-sized (16-byte) value is not mistaken for a SID', () => {
    expect(() => sidToString(Buffer.from('d4c3b2a1f6e589479abcdef012345678', 'hex'))).toThrow();
  });
});
