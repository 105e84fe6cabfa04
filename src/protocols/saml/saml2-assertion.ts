import type { SigningKey } from '../../keys/key-store.js';
import { dateTimeValue, element, namespace, slot, trustedFragment, type CanonicalFragment, type XmlElement, type XmlNamespace } from '../../xml/canonical-xml.js';
import { XMLDSIG_NS, type SignatureAlgorithm } from '../../xml/enveloped-signature.js';
import { SAML_BEARER, SAML_NS } from './saml-constants.js';
import { writeSignedAtSlot } from './signed-message.js';

/**
 * The signed SAML 2.0 Assertion (saml-core-2.0-os §2.3.3) in the shape Entra requires
 * (entra-federation.md §2.3/§2.4), written directly in exclusive canonical form and signed once
 * (performance.md), like the SAML 1.1 assertion of WS-Fed. It declares its own namespaces, so it is
 * the same bytes standalone (after decryption at the SP) and embedded in a Response.
 */

/** Prefix `saml` is used only inside the assertion: no enclosing message renders it (see saml2-response.ts). */
const SAML = namespace('saml', SAML_NS.assertion);

export interface Saml2Attribute {
  readonly name: string;
  /** NameFormat URI; undefined leaves it out (unspecified), as in Entra's IDPEmail sample. */
  readonly nameFormat?: string | undefined;
  readonly friendlyName?: string | undefined;
  /** Written as plain text AttributeValues, without xsi:type (as AD FS writes them). */
  readonly values: readonly string[];
}

export interface Saml2NameId {
  readonly value: string;
  readonly format: string;
  readonly nameQualifier?: string | undefined;
  readonly spNameQualifier?: string | undefined;
}

export interface Saml2AssertionInput {
  /** The assertion's ID and the signature's Reference (#id): an NCName, "_" + randomUUID(). */
  readonly assertionId: string;
  readonly issuer: string;
  readonly issueInstant: Date;
  readonly nameId: Saml2NameId;
  readonly subjectConfirmation: {
    /** The ACS URL the Response is posted to. */
    readonly recipient: string;
    readonly notOnOrAfter: Date;
    /** The AuthnRequest's ID; absent for IdP-initiated SSO. */
    readonly inResponseTo?: string | undefined;
  };
  readonly notBefore: Date;
  readonly notOnOrAfter: Date;
  readonly audience: string;
  /**
   * In order. Attributes with the same Name and NameFormat are merged into ONE Attribute (values in
   * order); valueless ones are left out; with none left, no AttributeStatement is written.
   */
  readonly attributes: readonly Saml2Attribute[];
  /** When the user really authenticated (SSO reuses the session's time), not the issue time. */
  readonly authnInstant: Date;
  readonly sessionIndex: string;
  readonly sessionNotOnOrAfter?: Date | undefined;
  readonly authnContextClassRef: string;
}

/** xs:dateTime in UTC with milliseconds and Z. */
export const samlInstant = dateTimeValue;

function mergeAttributes(attributes: readonly Saml2Attribute[]): Saml2Attribute[] {
  const merged = new Map<string, { name: string; nameFormat: string | undefined; friendlyName: string | undefined; values: string[] }>();
  for (const a of attributes) {
    if (a.values.length === 0) continue;
    const key = JSON.stringify([a.nameFormat ?? null, a.name]);
    const existing = merged.get(key);
    if (existing) existing.values.push(...a.values);
    else merged.set(key, { name: a.name, nameFormat: a.nameFormat, friendlyName: a.friendlyName, values: [...a.values] });
  }
  return [...merged.values()];
}

function attributeStatement(attributes: readonly Saml2Attribute[]): XmlElement[] {
  const merged = mergeAttributes(attributes);
  if (merged.length === 0) return [];
  return [element(SAML, 'AttributeStatement', {}, merged.map((a) =>
    element(SAML, 'Attribute', { Name: a.name, NameFormat: a.nameFormat, FriendlyName: a.friendlyName },
      a.values.map((v) => element(SAML, 'AttributeValue', {}, [v]))),
  ))];
}

/** NameID as in a Subject or a LogoutRequest, in the namespace the caller's message uses. */
export function nameIdElement(ns: XmlNamespace, nameId: Saml2NameId): XmlElement {
  return element(ns, 'NameID', {
    Format: nameId.format,
    NameQualifier: nameId.nameQualifier,
    SPNameQualifier: nameId.spNameQualifier,
  }, [nameId.value]);
}

function assertionElement(input: Saml2AssertionInput): XmlElement {
  const confirmation = input.subjectConfirmation;
  return element(SAML, 'Assertion', { ID: input.assertionId, IssueInstant: samlInstant(input.issueInstant), Version: '2.0' }, [
    element(SAML, 'Issuer', {}, [input.issuer]),
    // ds:Signature right after Issuer (the SAML 2.0 schema; §2.3).
    slot('signature'),
    element(SAML, 'Subject', {}, [
      nameIdElement(SAML, input.nameId),
      element(SAML, 'SubjectConfirmation', { Method: SAML_BEARER }, [
        element(SAML, 'SubjectConfirmationData', {
          InResponseTo: confirmation.inResponseTo,
          NotOnOrAfter: samlInstant(confirmation.notOnOrAfter),
          Recipient: confirmation.recipient,
        }),
      ]),
    ]),
    element(SAML, 'Conditions', { NotBefore: samlInstant(input.notBefore), NotOnOrAfter: samlInstant(input.notOnOrAfter) }, [
      element(SAML, 'AudienceRestriction', {}, [element(SAML, 'Audience', {}, [input.audience])]),
    ]),
    ...attributeStatement(input.attributes),
    element(SAML, 'AuthnStatement', {
      AuthnInstant: samlInstant(input.authnInstant),
      SessionIndex: input.sessionIndex,
      SessionNotOnOrAfter: input.sessionNotOnOrAfter === undefined ? undefined : samlInstant(input.sessionNotOnOrAfter),
    }, [
      element(SAML, 'AuthnContext', {}, [element(SAML, 'AuthnContextClassRef', {}, [input.authnContextClassRef])]),
    ]),
  ]);
}

/** The signed assertion: canonical, standalone (declares its own namespaces), no whitespace between elements. */
export function writeSignedSaml2Assertion(input: Saml2AssertionInput, key: SigningKey, algorithm: SignatureAlgorithm): string {
  return writeSignedAtSlot(assertionElement(input), input.assertionId, { key, algorithm });
}

// The bindings a signed assertion's canonical form renders without an ancestor's help: saml on
// Assertion, ds on ds:Signature, the default (xmldsig) on KeyInfo.
const ASSERTION_LOOKUPS = [SAML, namespace('ds', XMLDSIG_NS), namespace('', XMLDSIG_NS)];
const ASSERTION_START = `<saml:Assertion xmlns:saml="${SAML_NS.assertion}" `;

/**
 * The output of writeSignedSaml2Assertion as a fragment to embed byte for byte (Response). Only a
 * cheap shape check, no parsing: the caller must pass what writeSignedSaml2Assertion returned.
 */
export function signedSaml2AssertionFragment(assertion: string): CanonicalFragment {
  if (!assertion.startsWith(ASSERTION_START) || !assertion.includes('</saml:Issuer><ds:Signature ') || !assertion.endsWith('</saml:Assertion>')) {
    throw new Error('not a signed SAML 2.0 assertion written by writeSignedSaml2Assertion');
  }
  return trustedFragment(assertion, ASSERTION_LOOKUPS);
}
