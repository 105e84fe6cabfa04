import type { SigningKey } from '../../keys/key-store.js';
import {
  dateTimeValue, element, fillDocument, fillSlot, namespace, serializeCanonical, slot, trustedFragment, type CanonicalDocument, type CanonicalFragment, type XmlElement,
} from '../../xml/canonical-xml.js';
import { signEnveloped, XMLDSIG_NS, type SignatureAlgorithm } from '../../xml/enveloped-signature.js';

/**
 * The signed SAML 1.1 assertion Entra accepts from a WS-Fed IdP (entra-federation.md §1.3–§1.5),
 * written directly in exclusive canonical form and signed with one RSA signature.
 */

export type { SignatureAlgorithm } from '../../xml/enveloped-signature.js';

export const SAML11_ASSERTION_NS = 'urn:oasis:names:tc:SAML:1.0:assertion';
/** t:TokenType of a SAML 1.1 assertion (the same string as its namespace). */
export const SAML11_TOKEN_TYPE = 'urn:oasis:names:tc:SAML:1.0:assertion';
export const SAML11_BEARER = 'urn:oasis:names:tc:SAML:1.0:cm:bearer';

const SAML = namespace('saml', SAML11_ASSERTION_NS);

export interface Saml11Attribute {
  readonly name: string;
  readonly namespace: string;
  readonly values: readonly string[];
}

export interface Saml11AssertionInput {
  /** The AssertionID, also the signature's Reference (#id): an NCName, e.g. "_" + randomUUID(). */
  readonly assertionId: string;
  /** Must equal the Entra domain's issuerUri exactly (§1.4). */
  readonly issuer: string;
  readonly issueInstant: Date;
  readonly notBefore: Date;
  readonly notOnOrAfter: Date;
  readonly audience: string;
  readonly nameIdentifier: { readonly value: string; readonly format: string };
  /**
   * In order. Attributes with the same name and namespace are merged into ONE Attribute element
   * (values in order); attributes without values are left out (SAML 1.1 needs ≥1 AttributeValue);
   * with none left, the AttributeStatement is omitted.
   */
  readonly attributes: readonly Saml11Attribute[];
  readonly authenticationMethod: string;
  /** First-factor time: Entra's sign-in frequency depends on it (§6.1). */
  readonly authenticationInstant: Date;
}

function mergeAttributes(attributes: readonly Saml11Attribute[]): Saml11Attribute[] {
  const merged = new Map<string, { name: string; namespace: string; values: string[] }>();
  for (const a of attributes) {
    if (a.values.length === 0) continue;
    // Two different pairs share this key only if each has a NUL in its namespace or name, which
    // writing refuses (XmlCharacterError): cheaper than JSON.stringify, and as exact.
    const key = `${a.namespace}\u0000${a.name}`;
    const existing = merged.get(key);
    if (existing) existing.values.push(...a.values);
    else merged.set(key, { name: a.name, namespace: a.namespace, values: [...a.values] });
  }
  return [...merged.values()];
}

/** The names of an attribute's slots in an assertion's shape. */
interface AttributeSlots {
  readonly name: string;
  readonly namespace: string;
  readonly values: readonly string[];
}

/**
 * An assertion's shape: the assertion with a slot for every value. It depends only on how many
 * values each merged attribute has, so it is serialised once per such structure and filled per token
 * (namespace decisions, attribute order and constants are the same for every token).
 */
interface AssertionShape {
  readonly doc: CanonicalDocument;
  readonly attributes: readonly AttributeSlots[];
  /** The Subject is written into both statements, which must be identical (§1.4): the same values fill both. */
  readonly subjects: readonly string[];
}

function assertionTree(attributes: readonly AttributeSlots[], subjects: readonly string[]): XmlElement {
  const subject = (statement: string) => element(SAML, 'Subject', {}, [
    element(SAML, 'NameIdentifier', { Format: slot(`${statement}.format`) }, [slot(`${statement}.value`)]),
    element(SAML, 'SubjectConfirmation', {}, [element(SAML, 'ConfirmationMethod', {}, [SAML11_BEARER])]),
  ]);
  const statements: XmlElement[] = [];
  if (attributes.length > 0) {
    statements.push(element(SAML, 'AttributeStatement', {}, [
      subject(subjects[0] as string),
      ...attributes.map((a) => element(SAML, 'Attribute', { AttributeName: slot(a.name), AttributeNamespace: slot(a.namespace) },
        a.values.map((v) => element(SAML, 'AttributeValue', {}, [slot(v)])))),
    ]));
  }
  statements.push(element(SAML, 'AuthenticationStatement', {
    AuthenticationInstant: slot('authenticationInstant'),
    AuthenticationMethod: slot('authenticationMethod'),
  }, [subject(subjects[subjects.length - 1] as string)]));

  return element(SAML, 'Assertion', {
    AssertionID: slot('assertionId'),
    IssueInstant: slot('issueInstant'),
    Issuer: slot('issuer'),
    MajorVersion: '1',
    MinorVersion: '1',
  }, [
    element(SAML, 'Conditions', { NotBefore: slot('notBefore'), NotOnOrAfter: slot('notOnOrAfter') }, [
      element(SAML, 'AudienceRestrictionCondition', {}, [element(SAML, 'Audience', {}, [slot('audience')])]),
    ]),
    ...statements,
    // ds:Signature is the LAST child of a SAML 1.1 Assertion (schema; §1.4).
    slot('signature'),
  ]);
}

// By value counts, e.g. "1,1,1,1" for Entra's four claims: few distinct ones; the cap only bounds odd inputs.
const shapes = new Map<string, AssertionShape>();
const MAX_SHAPES = 256;

function assertionShape(attributes: readonly Saml11Attribute[]): AssertionShape {
  const cacheKey = attributes.map((a) => a.values.length).join(',');
  let shape = shapes.get(cacheKey);
  if (shape === undefined) {
    if (shapes.size >= MAX_SHAPES) shapes.clear();
    const slots = attributes.map((a, i) => ({
      name: `attribute${i}.name`, namespace: `attribute${i}.namespace`, values: a.values.map((_, j) => `attribute${i}.value${j}`),
    }));
    const subjects = attributes.length > 0 ? ['attributeStatement', 'authenticationStatement'] : ['authenticationStatement'];
    shape = { doc: serializeCanonical(assertionTree(slots, subjects)), attributes: slots, subjects };
    shapes.set(cacheKey, shape);
  }
  return shape;
}

function assertionValues(input: Saml11AssertionInput, attributes: readonly Saml11Attribute[], shape: AssertionShape): Record<string, string> {
  const values: Record<string, string> = {
    assertionId: input.assertionId,
    issueInstant: dateTimeValue(input.issueInstant),
    issuer: input.issuer,
    notBefore: dateTimeValue(input.notBefore),
    notOnOrAfter: dateTimeValue(input.notOnOrAfter),
    audience: input.audience,
    authenticationInstant: dateTimeValue(input.authenticationInstant),
    authenticationMethod: input.authenticationMethod,
  };
  for (const statement of shape.subjects) {
    values[`${statement}.format`] = input.nameIdentifier.format;
    values[`${statement}.value`] = input.nameIdentifier.value;
  }
  attributes.forEach((a, i) => {
    const slots = shape.attributes[i] as AttributeSlots;
    values[slots.name] = a.name;
    values[slots.namespace] = a.namespace;
    a.values.forEach((v, j) => { values[slots.values[j] as string] = v; });
  });
  return values;
}

/** The signed assertion, canonical XML without any whitespace between elements. */
export function writeSignedSaml11Assertion(input: Saml11AssertionInput, key: SigningKey, algorithm: SignatureAlgorithm): string {
  const attributes = mergeAttributes(input.attributes);
  const shape = assertionShape(attributes);
  const doc = fillDocument(shape.doc, assertionValues(input, attributes, shape));
  const signature = signEnveloped({ canonicalElement: doc.xml, id: input.assertionId, key, algorithm });
  return fillSlot(doc, 'signature', signature);
}

// The bindings a signed assertion's canonical form renders without an ancestor's help: saml on
// Assertion, ds on ds:Signature, the default (xmldsig) on KeyInfo.
const ASSERTION_LOOKUPS = [SAML, namespace('ds', XMLDSIG_NS), namespace('', XMLDSIG_NS)];

/**
 * The output of writeSignedSaml11Assertion as a fragment to embed byte for byte (RSTR). Only a
 * cheap shape check, no parsing: the caller must pass what writeSignedSaml11Assertion returned.
 */
export function signedAssertionFragment(assertion: string): CanonicalFragment {
  if (!assertion.startsWith('<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" ') || !assertion.endsWith('</ds:Signature></saml:Assertion>')) {
    throw new Error('not a signed SAML 1.1 assertion written by writeSignedSaml11Assertion');
  }
  return trustedFragment(assertion, ASSERTION_LOOKUPS);
}
