/**
 * THE outbound XML writer: emits XML that is already in Exclusive XML Canonicalization form
 * (http://www.w3.org/2001/10/xml-exc-c14n#, without comments), so a token is serialised once and
 * its digest is taken over exactly the bytes that are sent (performance.md: no DOM, no XPath, no
 * re-canonicalisation on the issuance path).
 *
 * Documents are built from typed values (`element`, text strings, `CanonicalFragment`s and named
 * slots) and serialised by `serializeCanonical`. A document whose values are slots is a shape:
 * serialised once, then filled per token by `fillSlots` with values escaped as the walk would have
 * escaped them (the fixed parts of a signature, the WS-Fed RSTR). What makes the output canonical:
 *  - text escapes & < > and CR (`escapeText`); attribute values escape & < " TAB LF CR (`escapeAttribute`);
 *  - namespace declarations appear exactly where exc-c14n renders them: on the element that visibly
 *    utilises the prefix (its own prefix or a qualified attribute's) and only when the nearest output
 *    ancestor did not already render the same binding; `xmlns="…"` first, then `xmlns:p` by prefix;
 *  - attributes follow: unqualified ones by local name, then qualified ones by (namespace URI, local name);
 *  - empty elements are written as start and end tags; no XML declaration; no whitespace added.
 * Element and attribute names are code constants, never input; only text and attribute VALUES carry data.
 * Nothing here parses XML.
 */

/** A namespace binding. `prefix: ''` is the default namespace. */
export interface XmlNamespace {
  readonly prefix: string;
  readonly uri: string;
}

/** An attribute in a namespace (e.g. xsi:type). Unqualified attributes are given as a record. */
export interface QualifiedAttribute {
  readonly ns: XmlNamespace;
  readonly name: string;
  readonly value: string;
}

export interface XmlElement {
  readonly kind: 'element';
  readonly ns: XmlNamespace;
  readonly name: string;
  /** Unqualified attributes; an `undefined` value leaves the attribute out. */
  readonly attributes: Readonly<Record<string, string | XmlSlot | undefined>>;
  readonly qualifiedAttributes: readonly QualifiedAttribute[];
  /**
   * Declarations this element carries although it does not visibly utilise them. Only legal for
   * prefixes in the serialisation's `inclusivePrefixes` (the Reference's InclusiveNamespaces
   * PrefixList): exc-c14n renders those like inclusive c14n does. Used for QNames in attribute
   * content, e.g. xsi:type="fed:SecurityTokenServiceType", whose prefix must be in scope for
   * readers (.NET resolves it with ResolveQName) yet is not "visibly utilised" for exc-c14n.
   */
  readonly declare: readonly XmlNamespace[];
  readonly children: readonly XmlChild[];
}

/**
 * Canonical XML produced earlier (an assertion, a ds:Signature), inserted byte for byte.
 * `lookups` lists every namespace-rendering decision inside it that depended on the context it was
 * serialised in (an empty one): inserting it is only correct where each decision comes out the same,
 * which `serializeCanonical` checks.
 */
export interface CanonicalFragment {
  readonly kind: 'fragment';
  readonly xml: string;
  readonly lookups: readonly XmlNamespace[];
}

/**
 * A named position, filled later by `fillSlots`: as a child, with a fragment (where the enveloped
 * signature goes) or text; as an attribute value, with a value. A document with value slots is a
 * shape serialised once (namespace decisions and attribute order are fixed by its code constants)
 * and filled per use with escaped values, e.g. the SignedInfo of every signature.
 */
export interface XmlSlot {
  readonly kind: 'slot';
  readonly name: string;
}

/** A string child is text. */
export type XmlChild = XmlElement | CanonicalFragment | XmlSlot | string;

export interface ElementOptions {
  readonly qualifiedAttributes?: readonly QualifiedAttribute[];
  readonly declare?: readonly XmlNamespace[];
}

export function namespace(prefix: string, uri: string): XmlNamespace {
  return { prefix, uri };
}

// Shared defaults: a token has dozens of elements, most without attributes, options or children.
const NO_ATTRIBUTES: XmlElement['attributes'] = Object.freeze({});
const NONE: readonly never[] = Object.freeze([]);
const NO_OPTIONS: ElementOptions = Object.freeze({});

export function element(
  ns: XmlNamespace,
  name: string,
  attributes: XmlElement['attributes'] = NO_ATTRIBUTES,
  children: readonly XmlChild[] = NONE,
  options: ElementOptions = NO_OPTIONS,
): XmlElement {
  return { kind: 'element', ns, name, attributes, qualifiedAttributes: options.qualifiedAttributes ?? NONE, declare: options.declare ?? NONE, children };
}

export function slot(name: string): XmlSlot {
  return { kind: 'slot', name };
}

/** Thrown for values XML 1.0 cannot carry at all, even as character references. */
export class XmlCharacterError extends Error {
  constructor(where: string) {
    super(`${where} contains a character XML 1.0 cannot represent (a control character, U+FFFE/U+FFFF or a lone surrogate)`);
    this.name = 'XmlCharacterError';
  }
}

// XML 1.0 Char production. Anything else (C0 controls other than TAB/LF/CR, lone surrogates,
// U+FFFE/U+FFFF) is refused rather than replaced: silently mapping two distinct identifiers to the
// same text would let them collide in a signed token.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const TEXT_SPECIAL = /[&<>\r]/g;
const ATTRIBUTE_SPECIAL = /[&<"\t\n\r]/g;
const TEXT_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };
const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '"': '&quot;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;' };

// Fast path: most values (URIs, identifiers, names) need neither escaping nor the Char check.
const NEEDS_WORK = /[&<>"\u0000-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

/** Text node content as c14n writes it (C14N 1.0 §2.3 "Text Nodes"). */
export function escapeText(value: string): string {
  if (!NEEDS_WORK.test(value)) return value;
  if (NOT_XML_CHAR.test(value)) throw new XmlCharacterError('A text value');
  return value.replace(TEXT_SPECIAL, (c) => TEXT_ESCAPES[c] ?? c);
}

/** Attribute value as c14n writes it (C14N 1.0 §2.3 "Attribute Nodes"). */
export function escapeAttribute(value: string): string {
  if (!NEEDS_WORK.test(value)) return value;
  if (NOT_XML_CHAR.test(value)) throw new XmlCharacterError('An attribute value');
  return value.replace(ATTRIBUTE_SPECIAL, (c) => ATTRIBUTE_ESCAPES[c] ?? c);
}

const DAY_MS = 86_400_000;
// Years 0000–9999, where toISOString writes a four-digit year (YYYY-MM-DDT is 11 characters).
const FIRST_FOUR_DIGIT_YEAR_MS = -62_167_219_200_000;
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;
let cachedDay = NaN;
let cachedDayText = '';
const twoDigits = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/**
 * xs:dateTime in UTC with milliseconds and Z, exactly as toISOString writes it (and AD FS).
 * toISOString costs about 1 µs and a token writes five to seven instants, so the date part is
 * remembered for the day and the time of day is computed from the milliseconds.
 */
export function dateTimeValue(date: Date): string {
  const time = date.getTime();
  if (!(time >= FIRST_FOUR_DIGIT_YEAR_MS && time <= LAST_FOUR_DIGIT_YEAR_MS)) return date.toISOString(); // (throws for an invalid date)
  const day = Math.floor(time / DAY_MS);
  if (day !== cachedDay) {
    cachedDayText = date.toISOString().slice(0, 11);
    cachedDay = day;
  }
  const ms = time - day * DAY_MS;
  const millis = ms % 1000;
  return `${cachedDayText}${twoDigits(Math.floor(ms / 3_600_000))}:${twoDigits(Math.floor(ms / 60_000) % 60)}:${twoDigits(Math.floor(ms / 1000) % 60)}`
    + `.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

/** Where a slot sat in the output (in document order), and which bindings the output had rendered there. */
interface SlotPosition {
  readonly offset: number;
  readonly scope: Scope | undefined;
  readonly inAttribute: boolean;
}

export interface CanonicalDocument {
  readonly xml: string;
  readonly slots: ReadonlyMap<string, SlotPosition>;
  /** As CanonicalFragment.lookups, for filling the document into a fragment. */
  readonly lookups: readonly XmlNamespace[];
}

export interface SerializeOptions {
  /** Prefixes of the exc-c14n InclusiveNamespaces PrefixList the document is signed with. */
  readonly inclusivePrefixes?: readonly string[];
}

/**
 * The bindings rendered by output ancestors, innermost first. A chain instead of a copied map:
 * most elements render nothing new and share their parent's scope.
 */
interface Scope {
  readonly prefix: string;
  readonly uri: string;
  readonly parent: Scope | undefined;
}

function lookup(scope: Scope | undefined, prefix: string): string | undefined {
  for (let s = scope; s; s = s.parent) if (s.prefix === prefix) return s.uri;
  return undefined;
}

/** exc-c14n renders a binding unless an output ancestor rendered the same one (xmlns="" only after a non-empty default). */
function rendersAfter(rendered: string | undefined, ns: XmlNamespace): boolean {
  return ns.prefix === '' ? (rendered ?? '') !== ns.uri : rendered !== ns.uri;
}

function needsRendering(scope: Scope | undefined, ns: XmlNamespace): boolean {
  return rendersAfter(lookup(scope, ns.prefix), ns);
}

function checkPrefix(ns: XmlNamespace, elementName: string): void {
  if (ns.prefix === 'xml' || ns.prefix === 'xmlns') throw new Error(`<${elementName}>: the ${ns.prefix} prefix is reserved`);
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The names of the attributes that are present, by code point (usually already so: sorted only if not). */
function presentNames(attributes: XmlElement['attributes']): string[] {
  const names: string[] = [];
  let sorted = true;
  for (const name of Object.keys(attributes)) {
    if (attributes[name] === undefined) continue;
    if (sorted && names.length > 0 && byCodePoint(names[names.length - 1] as string, name) > 0) sorted = false;
    names.push(name);
  }
  return sorted ? names : names.sort(byCodePoint);
}

/**
 * One walk over the tree, writing as it goes. Kept cheap because it runs for every token (the RSA
 * signature aside, it is most of a token's cost): the output grows by string concatenation (V8 ropes,
 * flattened once when hashed), and each binding is looked up in the scope chain once.
 */
class Serializer {
  xml = '';
  readonly slots = new Map<string, SlotPosition>();
  /** Bindings looked up past the root (recorded so the result can be reused as a fragment). */
  readonly lookups: XmlNamespace[] = [];
  private readonly inclusive: ReadonlySet<string>;

  constructor(options: SerializeOptions) {
    this.inclusive = new Set(options.inclusivePrefixes ?? []);
  }

  /** The bindings the element visibly utilises (plus its inclusive declarations), one per prefix. */
  private bindingsOf(node: XmlElement): readonly XmlNamespace[] {
    const wanted = new Map<string, XmlNamespace>([[node.ns.prefix, node.ns]]);
    const want = (ns: XmlNamespace): void => {
      checkPrefix(ns, node.name);
      const other = wanted.get(ns.prefix);
      if (other !== undefined && other.uri !== ns.uri) throw new Error(`prefix "${ns.prefix}" bound to two namespaces on <${node.name}>`);
      wanted.set(ns.prefix, ns);
    };
    for (const a of node.qualifiedAttributes) {
      if (a.ns.prefix === '') throw new Error(`attribute ${a.name}: a qualified attribute needs a prefix`);
      want(a.ns);
    }
    for (const d of node.declare) {
      if (!this.inclusive.has(d.prefix)) throw new Error(`<${node.name}> declares "${d.prefix}", which it does not use and which is not in the InclusiveNamespaces PrefixList: not canonical`);
      want(d);
    }
    return [...wanted.values()];
  }

  /** Looks the binding up once: records it if no output ancestor binds the prefix, and says whether to render it. */
  private resolve(scope: Scope | undefined, ns: XmlNamespace): boolean {
    const bound = lookup(scope, ns.prefix);
    if (bound === undefined) this.lookups.push(ns);
    return rendersAfter(bound, ns);
  }

  writeElement(node: XmlElement, scope: Scope | undefined): void {
    const { ns, attributes } = node;
    checkPrefix(ns, node.name);
    const qname = ns.prefix === '' ? node.name : `${ns.prefix}:${node.name}`;
    let start = `<${qname}`;
    let inner = scope;
    if (node.qualifiedAttributes.length === 0 && node.declare.length === 0) {
      // The common case: the element's own namespace is the only binding it can render.
      if (this.resolve(scope, ns)) {
        inner = { prefix: ns.prefix, uri: ns.uri, parent: scope };
        start += namespaceDeclaration(ns);
      }
    } else {
      const rendered = this.bindingsOf(node).filter((b) => this.resolve(scope, b)).sort((a, b) => byCodePoint(a.prefix, b.prefix));
      for (const b of rendered) {
        inner = { prefix: b.prefix, uri: b.uri, parent: inner };
        start += namespaceDeclaration(b);
      }
    }
    for (const name of attributes === NO_ATTRIBUTES ? NONE : presentNames(attributes)) {
      const value = attributes[name] as string | XmlSlot;
      if (typeof value === 'string') {
        start += ` ${name}="${escapeAttribute(value)}"`;
      } else {
        start += ` ${name}="`;
        this.addSlot(value, this.xml.length + start.length, scope, true);
        start += '"';
      }
    }
    if (node.qualifiedAttributes.length > 0) {
      const qualified = [...node.qualifiedAttributes].sort((a, b) => byCodePoint(a.ns.uri, b.ns.uri) || byCodePoint(a.name, b.name));
      for (const a of qualified) start += ` ${a.ns.prefix}:${a.name}="${escapeAttribute(a.value)}"`;
    }
    this.xml += `${start}>`;
    for (const child of node.children) this.writeChild(child, inner);
    this.xml += `</${qname}>`;
  }

  private writeChild(child: XmlChild, scope: Scope | undefined): void {
    if (typeof child === 'string') {
      this.xml += escapeText(child);
    } else if (child.kind === 'element') {
      this.writeElement(child, scope);
    } else if (child.kind === 'fragment') {
      checkFragmentContext(child, scope);
      for (const ns of child.lookups) if (lookup(scope, ns.prefix) === undefined) this.lookups.push(ns);
      this.xml += child.xml;
    } else {
      this.addSlot(child, this.xml.length, scope, false);
    }
  }

  private addSlot(s: XmlSlot, offset: number, scope: Scope | undefined, inAttribute: boolean): void {
    if (this.slots.has(s.name)) throw new Error(`slot "${s.name}" used twice`);
    this.slots.set(s.name, { offset, scope, inAttribute });
  }
}

function namespaceDeclaration(ns: XmlNamespace): string {
  return ns.prefix === '' ? ` xmlns="${escapeAttribute(ns.uri)}"` : ` xmlns:${ns.prefix}="${escapeAttribute(ns.uri)}"`;
}

/**
 * A fragment serialised in an empty context rendered binding N iff needsRendering(empty, N); in this
 * context it must come out the same, or the inserted bytes would not be canonical here.
 */
function checkFragmentContext(fragment: CanonicalFragment, scope: Scope | undefined): void {
  for (const ns of fragment.lookups) {
    if (needsRendering(undefined, ns) !== needsRendering(scope, ns)) {
      throw new Error(`fragment cannot be inserted here: the context already binds "${ns.prefix}" to ${ns.uri}`);
    }
  }
}

/** Serialises a document (or the apex element of a signed subtree) in exclusive canonical form. */
export function serializeCanonical(root: XmlElement, options: SerializeOptions = {}): CanonicalDocument {
  const s = new Serializer(options);
  s.writeElement(root, undefined);
  return { xml: s.xml, slots: s.slots, lookups: s.lookups };
}

/** Serialises an element for later insertion into other canonical output (see CanonicalFragment). */
export function serializeFragment(root: XmlElement): CanonicalFragment {
  const s = new Serializer({});
  s.writeElement(root, undefined);
  return { kind: 'fragment', xml: s.xml, lookups: s.lookups };
}

/**
 * Wraps canonical XML this process wrote earlier (and only that: it is inserted unchecked) as a
 * fragment; `lookups` are the bindings its rendering depended on, as serializeFragment reports them.
 */
export function trustedFragment(xml: string, lookups: readonly XmlNamespace[]): CanonicalFragment {
  return { kind: 'fragment', xml, lookups };
}

/** What a slot is filled with: a fragment (checked to be canonical there too) or a value, escaped for where it sits. */
export type SlotFill = CanonicalFragment | string;

/**
 * Fills slots of a serialised document in one pass. Slots not named stay, empty, for a later fill
 * (the signature's, once the rest is digested). The lookups are the document's and those of inserted
 * fragments that the slot's context does not bind.
 */
export function fillDocument(doc: CanonicalDocument, fills: Readonly<Record<string, SlotFill>>): CanonicalDocument {
  const lookups = [...doc.lookups];
  const open = new Map<string, SlotPosition>();
  let xml = '';
  let from = 0;
  let used = 0;
  for (const [name, position] of doc.slots) {
    const fill = fills[name];
    xml += doc.xml.slice(from, position.offset);
    from = position.offset;
    if (fill === undefined) {
      open.set(name, { ...position, offset: xml.length });
    } else {
      xml += filled(name, position, fill, lookups);
      used++;
    }
  }
  // Counted rather than looked up one by one: a fill naming no slot is a mistake in the caller's code.
  const names = Object.keys(fills);
  const unknown = used === names.length ? undefined : names.find((n) => !doc.slots.has(n));
  if (unknown !== undefined) throw new Error(`no slot "${unknown}" in the document`);
  return { xml: xml + doc.xml.slice(from), slots: open, lookups };
}

/** fillDocument, as a fragment to insert into other canonical output. */
export function fillFragment(doc: CanonicalDocument, fills: Readonly<Record<string, SlotFill>>): CanonicalFragment {
  const { xml, lookups } = fillDocument(doc, fills);
  return { kind: 'fragment', xml, lookups };
}

function filled(name: string, position: SlotPosition, fill: SlotFill, lookups: XmlNamespace[]): string {
  if (typeof fill === 'string') return position.inAttribute ? escapeAttribute(fill) : escapeText(fill);
  if (position.inAttribute) throw new Error(`slot "${name}" is an attribute value: it takes a value, not a fragment`);
  checkFragmentContext(fill, position.scope);
  for (const ns of fill.lookups) if (lookup(position.scope, ns.prefix) === undefined) lookups.push(ns);
  return fill.xml;
}

/** The finished document: every slot filled (a value missing by mistake would be signed as empty). */
export function fillSlots(doc: CanonicalDocument, fills: Readonly<Record<string, SlotFill>>): string {
  const done = fillDocument(doc, fills);
  const [open] = done.slots.keys();
  if (open !== undefined) throw new Error(`slot "${open}" left unfilled`);
  return done.xml;
}

/** Inserts a fragment at a slot of a serialised document, checking it is canonical there too. */
export function fillSlot(doc: CanonicalDocument, name: string, fragment: CanonicalFragment): string {
  return fillSlots(doc, { [name]: fragment });
}
