import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { rejectionOf } from './rejection.js';
import { parseXml, XmlRejectedError, type XmlLimits, type XmlRejectionReason } from '../../../src/xml/parse-xml.js';

const PARSER_CORPUS = join(dirname(fileURLToPath(import.meta.url)), '../../attacks/xml/parser');

/** Every file of test/attacks/xml/parser and the reason it must be refused with. */
const EXPECTED: Readonly<Record<string, XmlRejectionReason>> = {
  'xxe-external-entity.xml': 'entity',
  'xxe-parameter-entity.xml': 'entity',
  'xxe-external-dtd.xml': 'doctype',
  'billion-laughs.xml': 'entity',
  'doctype-without-entities.xml': 'doctype',
  'doctype-lowercase-spacing.xml': 'doctype',
  'attlist-default-id.xml': 'doctype',
  'processing-instruction-stylesheet.xml': 'processing-instruction',
  'processing-instruction-inside.xml': 'processing-instruction',
  'two-roots.xml': 'not-one-root',
  'trailing-junk.xml': 'content-outside-root',
  'leading-text.xml': 'content-outside-root',
  'undefined-entity.xml': 'not-well-formed',
  'invalid-character-reference.xml': 'invalid-character',
  'encoding-latin1.xml': 'not-utf8',
  'invalid-utf8.xml': 'not-utf8',
  'utf16-bom.xml': 'not-utf8',
  'unbound-prefix.xml': 'not-well-formed',
  'empty.xml': 'not-one-root',
  'deep-nesting.xml': 'too-deep',
  'many-attributes.xml': 'too-many-attributes',
};

const reasonOf = (input: string | Buffer, limits?: XmlLimits): XmlRejectionReason | 'accepted' => rejectionOf(() => parseXml(input, limits));

describe('parseXml: the attack corpus', () => {
  const files = readdirSync(PARSER_CORPUS).sort();

  it('has an expected reason for every corpus file', () => {
    expect(files.filter((f) => !(f in EXPECTED))).toEqual([]);
    expect(Object.keys(EXPECTED).filter((f) => !files.includes(f))).toEqual([]);
  });

  for (const file of files) {
    it(`${file} -> refused (${EXPECTED[file] ?? '?'})`, () => {
      const bytes = readFileSync(join(PARSER_CORPUS, file));
      expect(reasonOf(bytes)).toBe(EXPECTED[file]);
      // The same refusal when a caller passes text instead of bytes (where the bytes are UTF-8 at all).
      if (EXPECTED[file] !== 'not-utf8') expect(reasonOf(bytes.toString('utf8'))).toBe(EXPECTED[file]);
    });
  }
});

describe('parseXml: refusals', () => {
  it('entity declarations are refused before the parser runs: the billion laughs cost nothing', () => {
    const laughs = readFileSync(join(PARSER_CORPUS, 'billion-laughs.xml'), 'utf8');
    const started = process.hrtime.bigint();
    expect(reasonOf(laughs)).toBe('entity');
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(50);
  });

  it('input over the size limit (default 256 KiB) -> too-large, counted in UTF-8 bytes', () => {
    const big = `<r>${'a'.repeat(256 * 1024)}</r>`;
    expect(reasonOf(big)).toBe('too-large');
    expect(reasonOf(Buffer.from(big))).toBe('too-large');
    // 100k three-byte characters: 100k UTF-16 units but 300 KiB of UTF-8.
    expect(reasonOf(`<r>${'€'.repeat(100_000)}</r>`)).toBe('too-large');
    expect(reasonOf(big, { maxBytes: 512 * 1024 })).toBe('accepted');
    // An explicit undefined keeps the default rather than lifting the limit.
    expect(reasonOf(big, { maxBytes: undefined, maxDepth: undefined, maxAttributes: undefined })).toBe('too-large');
  });

  it('deep nesting -> too-deep at the limit + 1, without exhausting the stack on huge depths', () => {
    const nest = (n: number): string => '<a>'.repeat(n) + '</a>'.repeat(n);
    expect(reasonOf(nest(64))).toBe('accepted');
    expect(reasonOf(nest(65))).toBe('too-deep');
    expect(reasonOf(nest(30_000))).toBe('too-deep');
    expect(reasonOf(nest(10), { maxDepth: 5 })).toBe('too-deep');
  });

  it('attributes over the per-element limit (namespace declarations count) -> too-many-attributes', () => {
    const attrs = (n: number): string => Array.from({ length: n }, (_, i) => `a${i}="x"`).join(' ');
    expect(reasonOf(`<r ${attrs(32)}/>`)).toBe('accepted');
    expect(reasonOf(`<r ${attrs(33)}/>`)).toBe('too-many-attributes');
    expect(reasonOf(`<r xmlns:p="urn:p" ${attrs(32)}/>`)).toBe('too-many-attributes');
  });

  it('raw characters XML 1.0 forbids -> invalid-character', () => {
    expect(reasonOf('<r>a\u0001b</r>')).toBe('invalid-character');
    expect(reasonOf('<r>a\uFFFEb</r>')).toBe('invalid-character');
    expect(reasonOf('<r>a\uD800b</r>')).toBe('invalid-character');
    expect(reasonOf('<r a="&#1;"/>')).toBe('invalid-character');
  });

  it('no root, whitespace only, or a root followed by another -> refused', () => {
    expect(reasonOf('')).toBe('not-one-root');
    expect(reasonOf('   \n')).toBe('not-one-root');
    expect(reasonOf('<a/><b/>')).toBe('not-one-root');
    expect(reasonOf('<a/><!-- c --><b/>')).toBe('not-one-root');
    expect(reasonOf('<a/>x')).toBe('content-outside-root');
  });

  it('<!DOCTYPE or <!ENTITY inside a comment or CDATA is refused too (no context-sensitive scanning)', () => {
    expect(reasonOf('<r><!-- <!DOCTYPE x> --></r>')).toBe('doctype');
    expect(reasonOf('<r><![CDATA[<!ENTITY x "y">]]></r>')).toBe('entity');
  });

  it('a malformed or misplaced XML declaration is refused', () => {
    expect(reasonOf('<?xml version="1.0" encoding="UTF-16"?><r/>')).toBe('not-utf8');
    expect(reasonOf('<?xml versio="1.0"?><r/>')).toBe('not-well-formed');
    expect(reasonOf(' <?xml version="1.0"?><r/>')).toBe('processing-instruction');
    expect(reasonOf('<?XML version="1.0"?><r/>')).toBe('processing-instruction');
  });

  it('the error is a bad_request IdpError: an untranslated refusal still answers 400 with a safe message', () => {
    try {
      parseXml('<!DOCTYPE r><r/>');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(XmlRejectedError);
      const e = err as XmlRejectedError;
      expect(e.status).toBe(400);
      expect(e.code).toBe('bad_request');
      expect(e.message).toBe('The XML message was refused.');
      expect(e.detail).toMatch(/^doctype: /);
    }
  });
});

describe('parseXml: accepted input', () => {
  it('a plain SAML AuthnRequest with declaration, comments, CDATA and whitespace around the root', () => {
    const doc = parseXml('<?xml version="1.0" encoding="utf-8"?>\n<!-- sent by sp -->\n<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_a"><x><![CDATA[a<b]]></x></samlp:AuthnRequest>\n');
    expect(doc.documentElement?.localName).toBe('AuthnRequest');
    expect(doc.documentElement?.namespaceURI).toBe('urn:oasis:names:tc:SAML:2.0:protocol');
    expect(doc.documentElement?.textContent).toBe('a<b');
  });

  it('UTF-8 bytes with a byte order mark, and non-ASCII text', () => {
    const doc = parseXml(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<r>Zoë — 日本</r>', 'utf8')]));
    expect(doc.documentElement?.textContent).toBe('Zoë — 日本');
  });

  it('the corpus templates of genuine SAML messages parse', () => {
    for (const name of ['authn-request.xml', 'response.xml']) {
      expect(reasonOf(readFileSync(join(PARSER_CORPUS, '..', name)))).toBe('accepted');
    }
  });
});
