/**
 * Windows security identifiers: the binary objectSid an AD returns, in its string form
 * S-R-I-S1-S2-... (MS-DTYP 2.4.2.2). Binary layout: revision (1 byte), sub-authority count (1),
 * identifier authority (6, big-endian), then each sub-authority (4, little-endian).
 */
export function sidToString(raw: Uint8Array): string {
  const b = Buffer.from(raw);
  if (b.length < 8) throw new Error(`a SID has at least 8 bytes, not ${b.length}`);
  const revision = b[0]!;
  const count = b[1]!;
  if (b.length !== 8 + 4 * count) throw new Error(`a SID with ${count} sub-authorities has ${8 + 4 * count} bytes, not ${b.length}`);
  const authority = b.readUIntBE(2, 6);
  // MS-DTYP: authorities of 2^32 and above are written in hex.
  const authorityText = authority >= 2 ** 32 ? `0x${authority.toString(16).toUpperCase().padStart(12, '0')}` : String(authority);
  const subAuthorities = Array.from({ length: count }, (_, i) => b.readUInt32LE(8 + 4 * i));
  return ['S', revision, authorityText, ...subAuthorities].join('-');
}
