import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { guidFromString, guidToString, immutableIdFromBytes } from '../../src/directory/guid.js';

/** entra-federation.md §7, the worked example. */
const DISPLAY = 'a1b2c3d4-e5f6-4789-9abc-def012345678';
const STORED = Buffer.from('d4c3b2a1f6e589479abcdef012345678', 'hex');
const IMMUTABLE_ID = '1MOyofbliUeavN7wEjRWeA==';
const WRONG_RFC_ORDER = 'obLD1OX2R4mavN7wEjRWeA==';

describe('guid', () => {
  it('guid: the §7 display GUID is stored with its first three fields little-endian', () => {
    expect(guidFromString(DISPLAY).toString('hex')).toBe(STORED.toString('hex'));
    expect(guidToString(STORED)).toBe(DISPLAY);
  });

  it('guid: the ImmutableID is base64 of the stored bytes, not of the RFC byte order', () => {
    expect(immutableIdFromBytes(STORED)).toBe(IMMUTABLE_ID);
    expect(immutableIdFromBytes(guidFromString(DISPLAY))).toBe(IMMUTABLE_ID);
    expect(immutableIdFromBytes(STORED)).not.toBe(WRONG_RFC_ORDER);
    expect(Buffer.from(DISPLAY.replaceAll('-', ''), 'hex').toString('base64')).toBe(WRONG_RFC_ORDER);
  });

  it('guid: the S11 capture cBxVeG+XQECCbDIdvNJ4fg== is 78551c70-976f-4040-826c-321dbcd2787e both ways', () => {
    const raw = Buffer.from('cBxVeG+XQECCbDIdvNJ4fg==', 'base64');
    expect(guidToString(raw)).toBe('78551c70-976f-4040-826c-321dbcd2787e');
    expect(immutableIdFromBytes(guidFromString('78551c70-976f-4040-826c-321dbcd2787e'))).toBe('cBxVeG+XQECCbDIdvNJ4fg==');
  });

  it('guid: random GUIDs round-trip bytes -> string -> bytes', () => {
    for (let i = 0; i < 100; i++) {
      const raw = randomBytes(16);
      const text = guidToString(raw);
      expect(text).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(guidFromString(text).equals(raw)).toBe(true);
    }
  });

  it('guid: upper-case and surrounding whitespace are accepted, output is lower-case', () => {
    expect(guidToString(guidFromString(`  ${DISPLAY.toUpperCase()}\n`))).toBe(DISPLAY);
  });

  it('guid: accepts a Uint8Array and does not modify it', () => {
    const raw = new Uint8Array(STORED);
    expect(guidToString(raw)).toBe(DISPLAY);
    expect(immutableIdFromBytes(raw)).toBe(IMMUTABLE_ID);
    expect(Buffer.from(raw).equals(STORED)).toBe(true);
  });

  it('guid: raw values that are not 16 bytes are refused', () => {
    expect(() => guidToString(new Uint8Array(15))).toThrow(/16 bytes, not 15/);
    expect(() => guidToString(new Uint8Array(17))).toThrow(/16 bytes, not 17/);
    expect(() => guidToString(new Uint8Array(0))).toThrow(/16 bytes/);
  });

  it('guid: text that is not a GUID is refused', () => {
    for (const bad of ['', 'a1b2c3d4e5f647899abcdef012345678', '{a1b2c3d4-e5f6-4789-9abc-def012345678}', 'g1b2c3d4-e5f6-4789-9abc-def012345678', 'a1b2c3d4-e5f6-4789-9abc-def01234567', IMMUTABLE_ID]) {
      expect(() => guidFromString(bad), bad).toThrow(/not a GUID/);
    }
  });
});
