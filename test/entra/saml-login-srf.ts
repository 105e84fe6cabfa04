/**
 * A stand-in for Microsoft Entra ID's login.srf receiving the SAML 2.0 Response a federated IdP
 * auto-POSTs (entra-federation.md §2.1, §2.3, §2.4, §11), written from that text, not from fedgate.
 *
 * INDEPENDENT of fedgate: nothing from src/ is imported. It parses with @xmldom/xmldom and has the
 * signature checked by xmlsec1 (libxml2 + OpenSSL, not the xml-crypto our verifier uses), pinned to
 * the domain's configured certificate. xmlsec1 only says the signature is good, so before anything is
 * read the document is held to a shape in which the verified element is the only one that can be
 * read: one Assertion, every ID unique, the Reference pointing at that Assertion's ID, and no
 * comment or processing instruction anywhere (exc-c14n does not sign comments, so text split by one
 * would be read differently from how it was signed).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import type { EntraTenant, EntraVerdict } from './login-srf.js';

/** What Entra sent to the IdP, so that the answer can be matched to it. */
export interface EntraSamlRequest {
  /** The AuthnRequest ID: InResponseTo of the Response and of SubjectConfirmationData. */
  readonly id: string;
  /** The RelayState Entra sent (echoed byte for byte), if any. */
  readonly relayState?: string;
  /** A fresh sign-in was demanded: AuthnInstant must not be earlier. */
  readonly expectFreshAuthAfter?: Date;
  /** MFA was demanded and done at the IdP; without it an MFA AuthnContextClassRef is a false claim. */
  readonly expectMfa?: boolean;
}

/** The auto-posted form as the browser sends it. */
export interface LoginSrfForm {
  readonly action: string;
  readonly fields: Readonly<Record<string, string>>;
}

export const LOGIN_SRF = 'https://login.microsoftonline.com/login.srf';
const AUDIENCE = 'urn:federation:MicrosoftOnline';
const MAX_RESPONSE_BYTES = 256 * 1024;
/** Entra's real skew and lifetime limits are undocumented (§10.3): 5 min, 24 h. */
const SKEW_MS = 5 * 60_000;
const MAX_LIFETIME_MS = 24 * 3_600_000;

const NS = {
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
} as const;
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const MFA_CLASS = 'http://schemas.microsoft.com/claims/multipleauthn';
/** §2.4: exc-c14n, enveloped; RSA-SHA256 in practice, RSA-SHA1 per S1's text. http:// forms only. */
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const SIGNATURE_METHODS = ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'http://www.w3.org/2000/09/xmldsig#rsa-sha1'];
const DIGEST_METHODS = ['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2000/09/xmldsig#sha1'];
/** Hosts whose namespace and algorithm URIs exist only as http:// (§0 erratum). */
const HTTP_ONLY = /^https:\/\/(www\.w3\.org|schemas\.xmlsoap\.org|schemas\.microsoft\.com|docs\.oasis-open\.org)\//i;
/** saml-core §1.3.3: xs:dateTime in UTC. */
const UTC_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

type Domain = EntraTenant['domains'][number];
type Report = (code: string, message: string) => void;

/** Checks the POST to login.srf as Entra would for a SAML-federated domain. */
export function validateSamlLoginSrfPost(form: LoginSrfForm, tenant: EntraTenant, request: EntraSamlRequest, now = new Date()): EntraVerdict {
  const errors: { code: string; message: string }[] = [];
  const report: Report = (code, message) => { errors.push({ code, message }); };
  const done = (extra: Omit<EntraVerdict, 'accepted' | 'errors'> = {}): EntraVerdict => ({ accepted: errors.length === 0, errors, ...extra });

  // §2.1: POST to login.srf, RelayState echoed when Entra sent one.
  if (form.action !== LOGIN_SRF) report('FORM_ACTION', `the form must post to ${LOGIN_SRF}, not ${form.action}`);
  if (form.fields.RelayState !== request.relayState) report('RELAYSTATE_MISMATCH', `RelayState ${JSON.stringify(form.fields.RelayState)} must echo ${JSON.stringify(request.relayState)}`);
  const encoded = form.fields.SAMLResponse;
  if (!encoded) {
    report('SAMLRESPONSE_MISSING', 'no SAMLResponse field');
    return done();
  }
  const xml = Buffer.from(encoded, 'base64').toString('utf8');
  const doc = strictParse(xml);
  if (typeof doc === 'string') {
    report('AADSTS90013', `SAMLResponse is not acceptable XML: ${doc}`);
    return done();
  }
  for (const uri of httpsSchemaUris(doc)) report('HTTPS_SCHEMA_URI', `${uri} must be written http://`);

  // The Response (§2.3)
  const response = doc.documentElement!;
  if (!is(response, NS.samlp, 'Response')) {
    report('RESPONSE_ROOT', `the root must be samlp:Response, not {${response.namespaceURI ?? ''}}${response.localName ?? ''}`);
    return done();
  }
  if (attr(response, 'Version') !== '2.0') report('RESPONSE_VERSION', 'Response Version must be 2.0');
  if (!attr(response, 'ID')) report('RESPONSE_ID', 'Response ID is missing');
  checkInstant(attr(response, 'IssueInstant'), 'Response IssueInstant', now, report);
  if (attr(response, 'Destination') !== LOGIN_SRF) report('RESPONSE_DESTINATION', `Response Destination must be ${LOGIN_SRF} (got ${JSON.stringify(attr(response, 'Destination'))})`);
  if (attr(response, 'InResponseTo') !== request.id) report('IN_RESPONSE_TO', `Response InResponseTo must be the AuthnRequest ID ${request.id}`);
  const [responseIssuer, ...responseRest] = elements(response);
  const statusAt = responseRest.findIndex((e) => is(e, NS.samlp, 'Status'));
  const status = responseRest[statusAt];
  const statusCode = status ? first(status, NS.samlp, 'StatusCode') : undefined;
  if (!status || attr(statusCode, 'Value') !== SUCCESS) {
    report('STATUS', `Status must be Success (got ${JSON.stringify(attr(statusCode, 'Value'))})`);
    return done();
  }
  const afterStatus = responseRest.slice(statusAt + 1);
  if (afterStatus.length !== 1 || !afterStatus[0] || !is(afterStatus[0], NS.saml, 'Assertion')) {
    report('ASSERTION_COUNT', `exactly one saml:Assertion must follow Status (found ${afterStatus.map((e) => e.localName).join(', ') || 'nothing'})`);
    return done();
  }
  const assertion = afterStatus[0];
  const issuer = text(assertion, NS.saml, 'Issuer');
  if (!responseIssuer || !is(responseIssuer, NS.saml, 'Issuer') || textOf(responseIssuer) !== issuer) {
    report('RESPONSE_ISSUER', 'the Response must start with an Issuer equal to the Assertion\'s');
  }
  const domain = tenant.domains.find((d) => d.issuerUri === issuer);
  if (!domain) {
    report('AADSTS50107', `Issuer ${JSON.stringify(issuer)} is no federated domain's issuerUri`);
    return done();
  }

  // §2.4: the Assertion is signed (the Response may be too), with the domain's certificate.
  if (!signatureSound(xml, doc, assertion, domain, report)) return done();
  const responseSignature = responseRest.find((e) => is(e, NS.ds, 'Signature'));
  if (responseSignature && !signatureSound(xml, doc, response, domain, report)) return done();
  return done(readAssertion(assertion, domain, tenant, request, now, report));
}

/** The Assertion's content, read once its signature is known to cover it (§2.3 table, §11.1, §11.9). */
function readAssertion(assertion: Element, domain: Domain, tenant: EntraTenant, request: EntraSamlRequest, now: Date, report: Report): Omit<EntraVerdict, 'accepted' | 'errors'> {
  if (attr(assertion, 'Version') !== '2.0') report('ASSERTION_VERSION', 'Assertion Version must be 2.0');
  checkInstant(attr(assertion, 'IssueInstant'), 'Assertion IssueInstant', now, report);
  const [, , subject, conditions, ...statements] = elements(assertion);

  // Subject: persistent NameID = ImmutableID, one bearer confirmation for this request and login.srf.
  const nameIds = subject && is(subject, NS.saml, 'Subject') ? children(subject, NS.saml, 'NameID') : [];
  const nameId = nameIds.length === 1 && nameIds[0] ? nameIds[0] : undefined;
  if (!nameId) report('SUBJECT', 'the Assertion must have a Subject with one NameID right after the Signature');
  else if (attr(nameId, 'Format') !== PERSISTENT) report('NAMEID_FORMAT', `NameID Format must be ${PERSISTENT} (got ${JSON.stringify(attr(nameId, 'Format'))})`);
  const immutableId = nameId ? textOf(nameId) : '';
  const user = tenant.users.find((u) => u.immutableId === immutableId);
  if (!user) report('AADSTS51004', `no user has the ImmutableID ${JSON.stringify(immutableId)}`);
  const confirmations = subject ? children(subject, NS.saml, 'SubjectConfirmation') : [];
  const data = confirmations.length === 1 && confirmations[0] && attr(confirmations[0], 'Method') === BEARER ? first(confirmations[0], NS.saml, 'SubjectConfirmationData') : undefined;
  if (!data) report('SUBJECT_CONFIRMATION', 'one bearer SubjectConfirmation with SubjectConfirmationData is required');
  else {
    if (attr(data, 'InResponseTo') !== request.id) report('IN_RESPONSE_TO', `SubjectConfirmationData InResponseTo must be ${request.id}`);
    if (attr(data, 'Recipient') !== LOGIN_SRF) report('RECIPIENT', `SubjectConfirmationData Recipient must be ${LOGIN_SRF}`);
    const until = instant(attr(data, 'NotOnOrAfter'));
    if (until === undefined || until <= now.getTime() - SKEW_MS) report('SUBJECT_CONFIRMATION_EXPIRED', 'SubjectConfirmationData NotOnOrAfter must be a UTC instant still ahead');
  }

  // Conditions: a bounded window around now, audience urn:federation:MicrosoftOnline only.
  if (!conditions || !is(conditions, NS.saml, 'Conditions')) report('CONDITIONS_MISSING', 'Conditions must follow the Subject');
  else {
    const from = instant(attr(conditions, 'NotBefore'));
    const until = instant(attr(conditions, 'NotOnOrAfter'));
    if (from === undefined || until === undefined) report('CONDITIONS_MISSING', 'Conditions needs NotBefore and NotOnOrAfter in UTC');
    else {
      if (from > now.getTime() + SKEW_MS) report('TOKEN_NOT_YET_VALID', 'NotBefore is in the future');
      if (until <= now.getTime() - SKEW_MS) report('TOKEN_EXPIRED', 'NotOnOrAfter has passed');
      if (until <= from || until - from > MAX_LIFETIME_MS) report('TOKEN_LIFETIME', 'the Conditions window must be positive and at most 24 h');
    }
    const audiences = children(conditions, NS.saml, 'AudienceRestriction').flatMap((r) => children(r, NS.saml, 'Audience')).map(textOf);
    if (audiences.length !== 1 || audiences[0] !== AUDIENCE) report('AUDIENCE_INVALID', `exactly one Audience ${AUDIENCE} (got ${JSON.stringify(audiences)})`);
  }

  // Statements: IDPEmail = UPN; one AuthnStatement with a true instant and class.
  const attributeStatements = statements.filter((s) => is(s, NS.saml, 'AttributeStatement'));
  const authnStatements = statements.filter((s) => is(s, NS.saml, 'AuthnStatement'));
  if (statements.length !== attributeStatements.length + authnStatements.length) report('STATEMENTS', 'only AttributeStatement and AuthnStatement may follow the Conditions');
  const emails = attributeStatements.flatMap((s) => children(s, NS.saml, 'Attribute')).filter((a) => attr(a, 'Name') === 'IDPEmail');
  const emailValues = emails.flatMap((a) => children(a, NS.saml, 'AttributeValue')).map(textOf);
  if (emails.length !== 1 || emailValues.length !== 1) report('IDPEMAIL_MISSING', `one IDPEmail attribute with one value is required (got ${JSON.stringify(emailValues)})`);
  else if (user && emailValues[0]!.toLowerCase() !== user.upn.toLowerCase()) report('IDPEMAIL_MISMATCH', `IDPEmail ${emailValues[0]!} is not the UPN ${user.upn}`);
  const authn = authnStatements.length === 1 ? authnStatements[0] : undefined;
  const classRef = authn ? text(first(authn, NS.saml, 'AuthnContext') ?? authn, NS.saml, 'AuthnContextClassRef') : undefined;
  const authnInstant = attr(authn, 'AuthnInstant') ?? '';
  if (!authn || !classRef) report('AUTHN_STATEMENT', 'one AuthnStatement with an AuthnContextClassRef is required');
  if (authn && !attr(authn, 'SessionIndex')) report('AUTHN_STATEMENT', 'AuthnStatement needs a SessionIndex');
  const at = instant(authnInstant);
  if (at === undefined || at > now.getTime() + SKEW_MS) report('AUTHN_INSTANT_INVALID', `AuthnInstant ${JSON.stringify(authnInstant)} must be a past UTC instant`);
  else if (request.expectFreshAuthAfter && at < request.expectFreshAuthAfter.getTime()) report('AUTHN_NOT_FRESH', 'AuthnInstant is before the demanded fresh sign-in');
  const mfa = classRef === MFA_CLASS;
  if (mfa && !request.expectMfa) report('MFA_CLAIMED_NOT_PERFORMED', 'mfa claimed but not performed');

  // §11.1: a user's token carries the issuer of the domain governing the UPN (sub-domains: the parent's).
  if (user) {
    const governing = governingDomain(user.upn, tenant);
    if (governing?.issuerUri !== domain.issuerUri) report('ISSUER_DOMAIN_MISMATCH', `${user.upn} needs the issuer of ${governing?.name ?? 'a federated domain'}, not ${domain.issuerUri}`);
  }
  return {
    ...(user ? { user: { upn: user.upn, immutableId: user.immutableId } } : {}),
    claims: { issuer: domain.issuerUri, authenticationMethod: classRef ?? '', authenticationInstant: authnInstant, mfa, attributes: { IDPEmail: emailValues } },
  };
}

/**
 * The signature directly inside `signed`, right after its Issuer: the one shape §2.4 describes,
 * verified by xmlsec1 with the domain's certificate (never KeyInfo's).
 */
function signatureSound(xml: string, doc: Document, signed: Element, domain: Domain, report: Report): boolean {
  const bad = (code: string, message: string) => { report(code, message); return false; };
  const [issuer, signature] = elements(signed);
  const what = signed.localName ?? '';
  if (!issuer || !is(issuer, NS.saml, 'Issuer') || !signature || !is(signature, NS.ds, 'Signature')) {
    return bad('AADSTS50006', `the ${what} must be signed, its ds:Signature right after its Issuer`);
  }
  if (children(signed, NS.ds, 'Signature').length !== 1) return bad('AADSTS50006', `the ${what} has more than one ds:Signature`);
  const id = attr(signed, 'ID') ?? '';
  const ids = allIds(doc);
  if (ids.filter((v) => v === id).length !== 1 || new Set(ids).size !== ids.length) return bad('AADSTS50006', 'every ID in the document must be unique');
  const signedInfo = first(signature, NS.ds, 'SignedInfo');
  const references = signedInfo ? children(signedInfo, NS.ds, 'Reference') : [];
  const reference = references[0];
  if (!signedInfo || references.length !== 1 || !reference || attr(reference, 'URI') !== `#${id}`) return bad('AADSTS50006', `one Reference to #${id} is required`);
  if (algorithm(signedInfo, 'CanonicalizationMethod') !== EXC_C14N) return bad('AADSTS50006', 'CanonicalizationMethod must be exc-c14n');
  if (!SIGNATURE_METHODS.includes(algorithm(signedInfo, 'SignatureMethod') ?? '')) return bad('AADSTS50006', `SignatureMethod ${algorithm(signedInfo, 'SignatureMethod') ?? '(none)'}`);
  if (!DIGEST_METHODS.includes(algorithm(reference, 'DigestMethod') ?? '')) return bad('AADSTS50006', `DigestMethod ${algorithm(reference, 'DigestMethod') ?? '(none)'}`);
  const transforms = children(first(reference, NS.ds, 'Transforms') ?? reference, NS.ds, 'Transform').map((t) => attr(t, 'Algorithm'));
  if (transforms.join(' ') !== `${ENVELOPED} ${EXC_C14N}`) return bad('AADSTS50006', `transforms must be enveloped then exc-c14n (got ${JSON.stringify(transforms)})`);
  const certificates = [domain.signingCertificate, domain.nextSigningCertificate].filter((c): c is string => !!c).map((c) => c.replace(/\s+/g, ''));
  const sent = descendants(signature, NS.ds, 'X509Certificate').map((c) => textOf(c).replace(/\s+/g, ''));
  if (sent.some((c) => !certificates.includes(c))) return bad('AADSTS500081', `the KeyInfo certificate is not ${domain.name}'s signing certificate`);
  const path = `/*${signed === doc.documentElement ? '' : "/*[local-name()='Assertion']"}/*[local-name()='Signature']`;
  if (!certificates.some((cert) => xmlsec1Verifies(xml, path, cert))) return bad('AADSTS50006', `xmlsec1 does not verify the ${what}'s signature with ${domain.name}'s certificate`);
  return true;
}

function xmlsec1Verifies(xml: string, signaturePath: string, certificate: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'entra-saml-'));
  try {
    const pem = `-----BEGIN CERTIFICATE-----\n${certificate.replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
    writeFileSync(join(dir, 'cert.pem'), pem);
    writeFileSync(join(dir, 'response.xml'), xml);
    execFileSync('xmlsec1', ['--verify', '--id-attr:ID', `${NS.samlp}:Response`, '--id-attr:ID', `${NS.saml}:Assertion`,
      '--node-xpath', signaturePath, '--pubkey-cert-pem', join(dir, 'cert.pem'), join(dir, 'response.xml')], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A parse that refuses what Entra would (DTDs, oversize) and what would split signed text (comments, PIs). */
function strictParse(xml: string): Document | string {
  if (Buffer.byteLength(xml) > MAX_RESPONSE_BYTES) return 'larger than 256 KiB';
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return 'a DOCTYPE or entity declaration';
  if (/<!--|<\?(?!xml )/.test(xml)) return 'a comment or processing instruction';
  const problems: string[] = [];
  const doc = new DOMParser({ onError: (level, message) => { problems.push(`${level}: ${message}`); } }).parseFromString(xml, 'text/xml');
  return problems.length > 0 || !doc.documentElement ? problems.join('; ') || 'no root' : doc;
}

function httpsSchemaUris(doc: Document): string[] {
  const found = new Set<string>();
  const visit = (n: Node) => {
    const values = n.nodeType === 1 ? [(n as Element).namespaceURI, ...Array.from({ length: (n as Element).attributes.length }, (_, i) => (n as Element).attributes.item(i)?.value)] : [n.nodeValue];
    for (const v of values) if (v && HTTP_ONLY.test(v.trim())) found.add(v.trim());
    for (let c = n.firstChild; c; c = c.nextSibling) visit(c);
  };
  visit(doc.documentElement!);
  return [...found];
}

function checkInstant(value: string | undefined, what: string, now: Date, report: Report): void {
  const at = instant(value);
  if (at === undefined || at > now.getTime() + SKEW_MS) report('ISSUE_INSTANT', `${what} ${JSON.stringify(value)} must be a UTC instant, not in the future`);
}

function instant(value: string | undefined): number | undefined {
  return value !== undefined && UTC_INSTANT.test(value) ? Date.parse(value) : undefined;
}

function governingDomain(upn: string, tenant: EntraTenant): Domain | undefined {
  const suffix = upn.split('@').pop()!.toLowerCase();
  const matches = tenant.domains.filter((d) => suffix === d.name || suffix.endsWith(`.${d.name}`));
  return matches.sort((a, b) => b.name.length - a.name.length)[0];
}

// --- DOM reading: element children only, namespace-qualified ---

function is(e: Element, ns: string, localName: string): boolean {
  return e.namespaceURI === ns && e.localName === localName;
}

function elements(parent: Element): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n as Element);
  return out;
}

function children(parent: Element, ns: string, localName: string): Element[] {
  return elements(parent).filter((e) => is(e, ns, localName));
}

function first(parent: Element, ns: string, localName: string): Element | undefined {
  return children(parent, ns, localName)[0];
}

function descendants(parent: Element, ns: string, localName: string): Element[] {
  return elements(parent).flatMap((e) => [...(is(e, ns, localName) ? [e] : []), ...descendants(e, ns, localName)]);
}

function textOf(e: Element): string {
  return (e.textContent ?? '').trim();
}

function text(parent: Element, ns: string, localName: string): string | undefined {
  const found = children(parent, ns, localName);
  return found.length === 1 && found[0] ? textOf(found[0]) : undefined;
}

function attr(e: Element | undefined, name: string): string | undefined {
  return e?.hasAttribute(name) ? e.getAttribute(name) ?? undefined : undefined;
}

function algorithm(parent: Element, localName: string): string | undefined {
  return attr(first(parent, NS.ds, localName), 'Algorithm');
}

function allIds(doc: Document): string[] {
  const ids: string[] = [];
  const visit = (e: Element) => {
    for (const name of ['ID', 'Id', 'id', 'AssertionID']) if (e.hasAttribute(name)) ids.push(e.getAttribute(name)!);
    elements(e).forEach(visit);
  };
  visit(doc.documentElement!);
  return ids;
}
