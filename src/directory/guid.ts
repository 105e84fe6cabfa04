/**
 * AD GUIDs are stored with their first three fields little-endian (.NET Guid.ToByteArray()).
 * The display form a1b2c3d4-... therefore differs in byte order from the raw octets, and the
 * ImmutableID is base64 of the RAW octets (entra-federation.md §7).
 */
export function guidToString(raw: Uint8Array): string {
  if (raw.length !== 16) throw new Error(`a GUID has 16 bytes, not ${raw.length}`);
  const b = Buffer.from(raw);
  const hex = (start: number, end: number, reverse: boolean) => {
    const slice = Buffer.from(b.subarray(start, end));
    return (reverse ? slice.reverse() : slice).toString('hex');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

export function guidFromString(text: string): Buffer {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(text.trim());
  if (!m) throw new Error(`not a GUID: ${text}`);
  const le = (hex: string) => Buffer.from(hex, 'hex').reverse();
  return Buffer.concat([le(m[1]!), le(m[2]!), le(m[3]!), Buffer.from(m[4]! + m[5]!, 'hex')]);
}

/** Entra ImmutableID from a binary source anchor (objectGUID / mS-DS-ConsistencyGuid). */
export function immutableIdFromBytes(raw: Uint8Array): string {
  return Buffer.from(raw).toString('base64');
}
