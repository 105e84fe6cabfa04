/**
 * THE inbound XML parser. Every piece of XML that arrives from outside (AuthnRequests,
 * LogoutRequests, SP metadata, WS-Trust RSTs) is parsed here and nowhere else; signed parts are then
 * read only through verify-signed.ts.
 *
 * Refused before the parser sees a byte: anything over the size limit, bytes that are not UTF-8
 * (or a declaration naming another encoding), any DOCTYPE or markup declaration (so no entity can
 * be defined, internal or external: XXE and entity expansion are impossible rather than mitigated),
 * processing instructions other than the XML declaration, and characters XML 1.0 forbids.
 * Refused after parsing (@xmldom/xmldom 0.9, every warning and error fatal): more than one root or
 * none, text outside the root, elements deeper than the depth limit or with more attributes than the
 * attribute limit, and character references to forbidden characters (xmldom does not check them).
 * Known leniency: two attributes with the same expanded name (a:ID and b:ID, both prefixes bound to
 * one URI) are not refused; xmldom keeps the last one. Every later step (verify-signed.ts, xml-crypto)
 * sees that same DOM, so no two readers disagree about it.
 */
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { reject, XmlRejectedError, type XmlRejectionReason } from './xml-rejected-error.js';

export { XmlRejectedError, type XmlRejectionReason } from './xml-rejected-error.js';

export interface XmlLimits {
  /** Largest input in UTF-8 bytes. Default 256 KiB: AuthnRequests are a few KiB, one SP's metadata tens. */
  readonly maxBytes?: number;
  /** Deepest element nesting (the root is depth 1). Default 64; SAML responses nest about 8 deep. */
  readonly maxDepth?: number;
  /** Most attributes on one element, namespace declarations included. Default 32. */
  readonly maxAttributes?: number;
}

export const DEFAULT_XML_LIMITS: Required<XmlLimits> = { maxBytes: 256 * 1024, maxDepth: 64, maxAttributes: 32 };

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const PROCESSING_INSTRUCTION_NODE = 7;
const COMMENT_NODE = 8;

// XML 1.0 Char production; a lone surrogate in a JS string also fails it.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
// `<!` that does not open a comment or a CDATA section is a DOCTYPE or markup declaration. Checked
// on the raw text, so the same bytes inside a comment or CDATA are refused too: no legitimate
// message needs them, and not having to tell the cases apart keeps this check trivially right.
const MARKUP_DECLARATION = /<!(?!--|\[CDATA\[)/;
const ENTITY_WORD = /<!\s*ENTITY/i;
const XML_DECLARATION = /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.[0-9]+\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\4)?[ \t\r\n]*\?>/;

/** Documents this module produced: verify-signed.ts refuses any other (one way in). */
const parsedHere = new WeakSet<Document>();

export function isHardenedDocument(doc: Document): boolean {
  return parsedHere.has(doc);
}

/**
 * Parses untrusted XML or throws XmlRejectedError. A string is taken as already-decoded text; a
 * Buffer must be UTF-8 (a UTF-8 byte order mark is allowed and dropped).
 */
export function parseXml(input: string | Buffer, limits: XmlLimits = {}): Document {
  // Not a spread: an explicit `undefined` in `limits` must not switch a limit off.
  const max: Required<XmlLimits> = {
    maxBytes: limits.maxBytes ?? DEFAULT_XML_LIMITS.maxBytes,
    maxDepth: limits.maxDepth ?? DEFAULT_XML_LIMITS.maxDepth,
    maxAttributes: limits.maxAttributes ?? DEFAULT_XML_LIMITS.maxAttributes,
  };
  const text = decode(input, max.maxBytes);
  const body = checkProlog(text);
  if (MARKUP_DECLARATION.test(body)) {
    reject(ENTITY_WORD.test(body) ? 'entity' : 'doctype', 'a DOCTYPE or markup declaration is present');
  }
  if (body.includes('<?')) reject('processing-instruction', 'a processing instruction is present');
  if (NOT_XML_CHAR.test(text)) reject('invalid-character', 'a character XML 1.0 does not allow is present');

  let doc: Document;
  try {
    doc = new DOMParser({
      locator: false,
      onError: (level, message) => { throw new XmlRejectedError(reasonForParserMessage(message), `${level}: ${message}`); },
    }).parseFromString(text, 'text/xml');
  } catch (err) {
    if (err instanceof XmlRejectedError) throw err;
    // xmldom wraps what onError throws (and its own fatal errors) in a ParseError.
    const cause = err instanceof Error ? (err.cause instanceof XmlRejectedError ? err.cause : undefined) : undefined;
    if (cause) throw cause;
    const message = err instanceof Error ? err.message : String(err);
    reject(reasonForParserMessage(message), message);
  }
  checkTree(doc, max);
  parsedHere.add(doc);
  return doc;
}

/**
 * A more precise reason for some of xmldom's messages (for the audit log); anything unrecognised,
 * including a reworded message in a later xmldom, is still refused as not-well-formed.
 */
function reasonForParserMessage(message: string): XmlRejectionReason {
  if (/Only one element can be added|missing root element/i.test(message)) return 'not-one-root';
  if (/Extra content at the end of the document|outside root element/i.test(message)) return 'content-outside-root';
  return 'not-well-formed';
}

function decode(input: string | Buffer, maxBytes: number): string {
  if (typeof input === 'string') {
    // Every UTF-16 unit is at least one UTF-8 byte: the cheap test first.
    if (input.length > maxBytes || Buffer.byteLength(input, 'utf8') > maxBytes) reject('too-large', `more than ${maxBytes} bytes`);
    return input.startsWith('\uFEFF') ? input.slice(1) : input;
  }
  if (input.length > maxBytes) reject('too-large', `more than ${maxBytes} bytes`);
  if ((input[0] === 0xfe && input[1] === 0xff) || (input[0] === 0xff && input[1] === 0xfe)) reject('not-utf8', 'UTF-16 byte order mark');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    return reject('not-utf8', 'the bytes are not valid UTF-8');
  }
}

/** Checks the optional XML declaration and returns what follows it. */
function checkProlog(text: string): string {
  if (!text.startsWith('<?xml')) return text;
  const declaration = XML_DECLARATION.exec(text);
  if (!declaration) {
    // `<?xml-stylesheet …?>` and friends are processing instructions, not a declaration.
    if (/^<\?xml[^ \t\r\n?]/.test(text)) reject('processing-instruction', 'a processing instruction is present');
    reject('not-well-formed', 'malformed XML declaration');
  }
  const encoding = declaration[3];
  if (encoding !== undefined && encoding.toLowerCase() !== 'utf-8') reject('not-utf8', `declared encoding ${encoding}`);
  return text.slice(declaration[0].length);
}

function checkTree(doc: Document, max: Required<XmlLimits>): void {
  let roots = 0;
  for (let n: Node | null = doc.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE) roots++;
    else if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) {
      if ((n.nodeValue ?? '').trim() !== '') reject('content-outside-root', 'text outside the root element');
    } else if (n.nodeType === PROCESSING_INSTRUCTION_NODE && n === doc.firstChild && n.nodeName === 'xml') {
      // xmldom keeps the XML declaration as a node; checkProlog has already vetted it.
    } else if (n.nodeType !== COMMENT_NODE) reject('not-well-formed', `node type ${n.nodeType} outside the root element`);
  }
  const root = doc.documentElement;
  if (roots !== 1 || !root) reject('not-one-root', `${roots} root elements`);

  // Iterative: a hostile document must not be able to exhaust the stack of the check meant to stop it.
  const stack: { element: Element; depth: number }[] = [{ element: root, depth: 1 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { element, depth } = item;
    if (depth > max.maxDepth) reject('too-deep', `elements nest deeper than ${max.maxDepth}`);
    checkAttributes(element, max.maxAttributes);
    for (let n: Node | null = element.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === ELEMENT_NODE) stack.push({ element: n as Element, depth: depth + 1 });
      else if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) {
        // Character references are resolved by now: &#0; and friends show up only here.
        if (NOT_XML_CHAR.test(n.nodeValue ?? '')) reject('invalid-character', 'a character reference to a character XML 1.0 does not allow');
      } else if (n.nodeType !== COMMENT_NODE) reject('not-well-formed', `unexpected node type ${n.nodeType}`);
    }
  }
}

function checkAttributes(element: Element, maxAttributes: number): void {
  const attributes = element.attributes;
  if (attributes.length > maxAttributes) reject('too-many-attributes', `an element has more than ${maxAttributes} attributes`);
  for (let i = 0; i < attributes.length; i++) {
    const a = attributes.item(i);
    if (a && NOT_XML_CHAR.test(a.value)) reject('invalid-character', 'an attribute value refers to a character XML 1.0 does not allow');
  }
}
