import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { XmlCharacterError } from '../../src/xml/canonical-xml.js';
import { corpus, REFUSED_CHARACTERS, refusedWriters } from './golden-corpus.js';

/**
 * Differential test of the outbound writer: every document in golden-corpus.ts must come out byte
 * for byte as fixtures/canonical-golden.json says (bytes captured from the tree-walking serializer
 * before it compiled shapes), and characters XML cannot carry must still be refused.
 * GOLDEN_WRITE=1 rewrites the fixture: only for a deliberate change of output.
 */

// xml-encryption draws a random content key; its output is replaced by fixed bytes (in its own
// untidy shape: whitespace, self-closed elements) so the encrypted Responses are deterministic.
vi.mock('xml-encryption', () => ({
  default: {
    encrypt: (_content: string, options: { encryptionAlgorithm: string }, done: (err: Error | null, result: string) => void) => done(null,
      `<xenc:EncryptedData Type="http://www.w3.org/2001/04/xmlenc#Element" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">\n`
      + `<xenc:EncryptionMethod Algorithm="${options.encryptionAlgorithm}" />\n<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#">\n`
      + '<e:EncryptedKey xmlns:e="http://www.w3.org/2001/04/xmlenc#"><e:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p">'
      + '<DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1" /></e:EncryptionMethod><KeyInfo><X509Data><X509Certificate>MIIB</X509Certificate></X509Data></KeyInfo>'
      + '<e:CipherData><e:CipherValue>S2V5S2V5S2V5</e:CipherValue></e:CipherData></e:EncryptedKey></KeyInfo>\n'
      + '<xenc:CipherData><xenc:CipherValue>Q29udGVudCBjaXBoZXI=</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>'),
  },
}));

const FIXTURE = new URL('./fixtures/canonical-golden.json', import.meta.url);

describe('outbound documents are byte-identical to the golden corpus', async () => {
  const actual: Record<string, string> = {};
  for (const [name, write] of Object.entries(corpus())) actual[name] = await write();
  if (process.env.GOLDEN_WRITE === '1') writeFileSync(FIXTURE, `${JSON.stringify(actual, null, 1)}\n`);
  const golden = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, string>;

  it('covers the same documents', () => {
    expect(Object.keys(actual)).toEqual(Object.keys(golden));
  });
  for (const name of Object.keys(golden)) {
    it(name, () => {
      expect(actual[name]).toBe(golden[name]);
    });
  }
});

describe('characters XML 1.0 cannot carry are refused wherever a value goes', () => {
  for (const bad of REFUSED_CHARACTERS) {
    for (const [where, write] of Object.entries(refusedWriters(bad))) {
      it(`${where}: U+${(bad.replace('x', '').codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`, () => {
        expect(write).toThrow(XmlCharacterError);
      });
    }
  }
});
