import { describe, expect, it } from 'vitest';
import {
  dateTimeValue, element, escapeAttribute, escapeText, fillDocument, fillFragment, fillSlot, fillSlots, namespace, serializeCanonical, serializeFragment, slot, XmlCharacterError, type XmlElement,
} from '../../src/xml/canonical-xml.js';
import { parseXml, xmlCryptoCanonical } from './signature-oracles.js';

const A = namespace('a', 'urn:test:a');
const B = namespace('b', 'urn:test:b');
const Z = namespace('z', 'urn:test:0-sorts-first');
const DEFAULT = namespace('', 'urn:test:default');
const NONE = namespace('', '');

/** Serialises, and checks that xml-crypto's exclusive c14n of the parsed output is the output itself. */
function canonical(root: XmlElement, inclusivePrefixes: string[] = []): string {
  const xml = serializeCanonical(root, { inclusivePrefixes }).xml;
  expect(xmlCryptoCanonical(parseXml(xml).documentElement as never, inclusivePrefixes)).toBe(xml);
  return xml;
}

const TRICKY = [
  '<script>alert("x")</script>',
  'a & b && c;',
  'quote " apostrophe \' gt > lt <',
  ']]> cdata end',
  'tab\tnewline\ncarriage\rreturn\r\n',
  'Ünïcødé — 日本語 Ελληνικά',
  'astral 𝒜 😀 𐍈',
  '&amp; already escaped &#x41; &lt;',
  '',
];

describe('escaping as c14n writes text and attribute values', () => {
  it('text: & < > and CR are escaped; quotes, TAB and LF are not', () => {
    expect(escapeText('a&b<c>d"e\'f\tg\nh\ri')).toBe('a&amp;b&lt;c&gt;d"e\'f\tg\nh&#xD;i');
    expect(escapeText(']]>')).toBe(']]&gt;');
  });

  it('attribute: & < " TAB LF CR are escaped; > and apostrophe are not', () => {
    expect(escapeAttribute('a&b<c>d"e\'f\tg\nh\ri')).toBe('a&amp;b&lt;c>d&quot;e\'f&#x9;g&#xA;h&#xD;i');
  });

  it('non-ASCII and astral-plane characters pass through as UTF-8 text', () => {
    expect(escapeText('é 😀')).toBe('é 😀');
    expect(escapeAttribute('é 😀')).toBe('é 😀');
  });

  it('characters XML 1.0 cannot carry are refused, never silently replaced', () => {
    for (const bad of ['\u0000', '\u0001', '\u0008', '\u000B', '\u000C', '\u001F', '\uFFFE', '\uFFFF', '\uD800', 'x\uDC00y']) {
      expect(() => escapeText(`a${bad}b`)).toThrow(XmlCharacterError);
      expect(() => escapeAttribute(`a${bad}b`)).toThrow(XmlCharacterError);
    }
    expect(() => serializeCanonical(element(A, 'e', { v: 'ok' }, ['bad\u0002']))).toThrow(XmlCharacterError);
  });
});

describe('dateTimeValue', () => {
  it('is exactly toISOString, across day, year and four-digit-year boundaries; an invalid date throws', () => {
    const times = [0, -1, 1, 999, 86_399_999, 86_400_000, -86_400_001, -62_167_219_200_000, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000, 8.64e15, -8.64e15];
    for (let t = 1_600_000_000_000; t < 1_900_000_000_000; t += 997_123_457) times.push(t, Math.floor(-t / 3), t + 86_400_000);
    for (const t of times) expect(dateTimeValue(new Date(t))).toBe(new Date(t).toISOString());
    expect(() => dateTimeValue(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('serializeCanonical', () => {
  it('writes empty elements as start and end tags, no declaration, no whitespace', () => {
    expect(canonical(element(A, 'root', {}, [element(A, 'empty'), element(A, 'text', {}, ['x'])])))
      .toBe('<a:root xmlns:a="urn:test:a"><a:empty></a:empty><a:text>x</a:text></a:root>');
  });

  it('sorts unqualified attributes by name (code points), then qualified ones by namespace URI and name', () => {
    const xml = canonical(element(A, 'e', { b: '2', B: '1', a: '3', Z: '0' }, [], {
      qualifiedAttributes: [
        { ns: B, name: 'a', value: 'b:a' },
        { ns: Z, name: 'y', value: 'z:y' },
        { ns: A, name: 'q', value: 'a:q' },
        { ns: Z, name: 'x', value: 'z:x' },
      ],
    }));
    expect(xml).toBe('<a:e xmlns:a="urn:test:a" xmlns:b="urn:test:b" xmlns:z="urn:test:0-sorts-first" B="1" Z="0" a="3" b="2" '
      + 'z:x="z:x" z:y="z:y" a:q="a:q" b:a="b:a"></a:e>');
  });

  it('leaves out attributes whose value is undefined', () => {
    expect(canonical(element(A, 'e', { present: 'x', absent: undefined }))).toBe('<a:e xmlns:a="urn:test:a" present="x"></a:e>');
  });

  it('declares a prefix where it is first visibly used and never again below it', () => {
    const xml = canonical(element(A, 'root', {}, [
      element(B, 'child', {}, [element(B, 'grandchild', {}, [element(A, 'back')])]),
      element(B, 'sibling'),
    ]));
    expect(xml).toBe('<a:root xmlns:a="urn:test:a"><b:child xmlns:b="urn:test:b"><b:grandchild><a:back></a:back></b:grandchild></b:child>'
      + '<b:sibling xmlns:b="urn:test:b"></b:sibling></a:root>');
  });

  it('renders the default namespace first, and xmlns="" only under a non-empty default', () => {
    // Not compared with xml-crypto: it renders xmlns="" again on <stillNone> (it passes a null default
    // namespace down where it means ""), although exc-c14n §3 renders xmlns="" only when the nearest
    // output ancestor using the default namespace had a non-empty one. Our tokens have no such element.
    const xml = serializeCanonical(element(DEFAULT, 'root', {}, [
      element(B, 'prefixed', {}, [element(DEFAULT, 'same')]),
      element(NONE, 'none', {}, [element(NONE, 'stillNone')]),
      element(namespace('', 'urn:test:other'), 'other', { z: '1' }, [], { qualifiedAttributes: [{ ns: A, name: 'x', value: 'y' }] }),
    ])).xml;
    expect(xml).toBe('<root xmlns="urn:test:default"><b:prefixed xmlns:b="urn:test:b"><same></same></b:prefixed>'
      + '<none xmlns=""><stillNone></stillNone></none>'
      + '<other xmlns="urn:test:other" xmlns:a="urn:test:a" z="1" a:x="y"></other></root>');
    expect(canonical(element(NONE, 'plain', {}, [element(NONE, 'child')]))).toBe('<plain><child></child></plain>');
  });

  it('re-declares a prefix bound to another namespace below', () => {
    const rebound = namespace('a', 'urn:test:rebound');
    expect(canonical(element(A, 'root', {}, [element(rebound, 'inner', {}, [element(A, 'innermost')])])))
      .toBe('<a:root xmlns:a="urn:test:a"><a:inner xmlns:a="urn:test:rebound"><a:innermost xmlns:a="urn:test:a"></a:innermost></a:inner></a:root>');
  });

  it('refuses one prefix bound to two namespaces on one element, and the reserved prefixes', () => {
    expect(() => serializeCanonical(element(A, 'e', {}, [], { qualifiedAttributes: [{ ns: namespace('a', 'urn:other'), name: 'x', value: '' }] }))).toThrow(/two namespaces/);
    expect(() => serializeCanonical(element(A, 'e', {}, [], { qualifiedAttributes: [{ ns: namespace('xmlns', 'urn:x'), name: 'x', value: '' }] }))).toThrow(/reserved/);
  });

  it('carries an unused declaration only for a prefix of the InclusiveNamespaces PrefixList', () => {
    const typed = (decl: boolean) => element(A, 'root', {}, [
      element(A, 'typed', {}, [element(B, 'used')], {
        qualifiedAttributes: [{ ns: namespace('xsi', 'http://www.w3.org/2001/XMLSchema-instance'), name: 'type', value: 'b:SomeType' }],
        declare: decl ? [B] : [],
      }),
    ]);
    expect(canonical(typed(true), ['b'])).toBe('<a:root xmlns:a="urn:test:a"><a:typed xmlns:b="urn:test:b" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
      + 'xsi:type="b:SomeType"><b:used></b:used></a:typed></a:root>');
    expect(() => serializeCanonical(typed(true))).toThrow(/not canonical/);
  });

  it('escapes every tricky value so that parsing gives the value back, and stays canonical', () => {
    for (const value of TRICKY) {
      const xml = canonical(element(A, 'e', { v: value }, [value]));
      const root = parseXml(xml).documentElement;
      expect(root?.getAttribute('v')).toBe(value);
      expect(root?.textContent).toBe(value);
    }
  });
});

describe('fragments and slots', () => {
  const signatureLike = () => element(namespace('ds', 'urn:test:ds'), 'Sig', {}, [element(namespace('', 'urn:test:ds'), 'KeyInfo', {}, ['k'])]);

  it('inserts a fragment at a slot byte for byte, where it is canonical too', () => {
    const doc = serializeCanonical(element(A, 'root', {}, [element(A, 'first'), slot('sig')]));
    const xml = fillSlot(doc, 'sig', serializeFragment(signatureLike()));
    expect(xml).toBe('<a:root xmlns:a="urn:test:a"><a:first></a:first><ds:Sig xmlns:ds="urn:test:ds"><KeyInfo xmlns="urn:test:ds">k</KeyInfo></ds:Sig></a:root>');
    expect(xmlCryptoCanonical(parseXml(xml).documentElement as never)).toBe(xml);
  });

  it('embeds a fragment as a child at the same bytes as at the top level', () => {
    const fragment = serializeFragment(signatureLike());
    const xml = serializeCanonical(element(DEFAULT, 'outer', {}, [fragment])).xml;
    expect(xml).toBe(`<outer xmlns="urn:test:default">${fragment.xml}</outer>`);
    expect(xmlCryptoCanonical(parseXml(xml).documentElement as never)).toBe(xml);
  });

  it('refuses to insert a fragment where the context would change its namespace declarations', () => {
    const fragment = serializeFragment(signatureLike());
    expect(() => serializeCanonical(element(namespace('ds', 'urn:test:ds'), 'outer', {}, [fragment]))).toThrow(/cannot be inserted/);
    expect(() => serializeCanonical(element(namespace('', 'urn:test:ds'), 'outer', {}, [fragment]))).toThrow(/cannot be inserted/);
    const doc = serializeCanonical(element(namespace('ds', 'urn:test:ds'), 'outer', {}, [slot('s')]));
    expect(() => fillSlot(doc, 's', fragment)).toThrow(/cannot be inserted/);
    expect(() => fillSlot(doc, 'missing', fragment)).toThrow(/no slot/);
  });

  it('fills value slots (attribute values and text) escaped for where they sit, as the tree would have written them', () => {
    const shape = (v: string | ReturnType<typeof slot>, t: string | ReturnType<typeof slot>) =>
      element(A, 'root', { a: 'x', m: v, z: 'y' }, [element(B, 'text', {}, [t]), slot('sig')]);
    const doc = serializeCanonical(shape(slot('v'), slot('t')));
    for (const value of TRICKY) {
      expect(fillDocument(doc, { v: value, t: value }).xml).toBe(canonical(shape(value, value)));
    }
    const filled = fillFragment(doc, { v: '1', t: '2', sig: serializeFragment(signatureLike()) });
    expect(filled.xml).toBe(fillSlot(serializeCanonical(shape('1', '2')), 'sig', serializeFragment(signatureLike())));
    expect(filled.lookups).toEqual([A, B, namespace('ds', 'urn:test:ds'), namespace('', 'urn:test:ds')]);
    expect(() => fillSlots(doc, {})).toThrow(/left unfilled/);
    expect(() => fillSlots(doc, { v: 'a\u0001' })).toThrow(XmlCharacterError);
    expect(() => fillSlots(doc, { t: '\uD800' })).toThrow(XmlCharacterError);
    expect(() => fillSlots(doc, { v: serializeFragment(signatureLike()) })).toThrow(/takes a value/);
    expect(() => fillSlots(doc, { nope: 'x' })).toThrow(/no slot/);
    expect(() => serializeCanonical(element(A, 'e', { p: slot('s'), q: slot('s') }))).toThrow(/used twice/);
  });
});
