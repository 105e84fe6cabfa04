/**
 * A stand-in for Microsoft Entra ID's `login.srf`: it accepts or rejects the WS-Federation sign-in
 * response (the form the browser POSTs: wa, wresult, wctx) the way Entra does for a federated
 * domain, following /work/shared/docs/entra-federation.md §1, §5, §6, §7 and §11.
 *
 * It is an INDEPENDENT check of fedgate's token serializer: it must never import fedgate's
 * src/xml or src/protocols code. It parses with @xmldom/xmldom (no DTDs, bounded size) and
 * verifies the XML signature with xml-crypto against the domain's configured certificates only;
 * after verification everything is read from the canonical XML that the signature covers
 * (xml-crypto's getSignedReferences), never from the posted document, so signature wrapping
 * cannot change what is read.
 */
import { DOMParser, onWarningStopParsing, type Document, type Element, type Node } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';

export interface EntraTenant {
  /** Federated domains as Graph `internalDomainFederation` holds them: certs are base64 DER (§5.1). */
  readonly domains: readonly {
    readonly name: string;
    readonly issuerUri: string;
    readonly signingCertificate: string;
    readonly nextSigningCertificate?: string;
  }[];
  /** Users as Entra holds them; immutableId = onPremisesImmutableId (§7). */
  readonly users: readonly { readonly upn: string; readonly immutableId: string }[];
  /** §6.1; Graph's default is acceptIfMfaDoneByFederatedIdp. */
  readonly federatedIdpMfaBehavior?: 'acceptIfMfaDoneByFederatedIdp' | 'enforceMfaByFederatedIdp' | 'rejectMfaByFederatedIdp';
}

export interface EntraRequest {
  /** The wctx Entra put on the wsignin1.0 request; the response must echo it byte for byte. */
  readonly wctx: string;
  /** When Entra redirected the browser to the IdP. */
  readonly sentAt: Date;
  /** wfresh=0 / prompt=login was sent: the AuthenticationInstant must not be earlier than this. */
  readonly expectFreshAuthAfter?: Date;
  /** MFA was demanded (wauth=…/multipleauthn) and performed at the IdP; without it, an MFA claim is false. */
  readonly expectMfa?: boolean;
}

export interface EntraVerdict {
  readonly accepted: boolean;
  readonly errors: readonly { readonly code: string; readonly message: string }[];
  readonly user?: { readonly upn: string; readonly immutableId: string };
  readonly claims?: {
    readonly issuer: string;
    readonly authenticationMethod: string;
    readonly authenticationInstant: string;
    readonly insideCorporateNetwork?: string;
    readonly mfa: boolean;
    readonly attributes: Record<string, string[]>;
  };
}

/** Upper bound on wresult (AD FS tokens are a few KiB). */
export const MAX_WRESULT_CHARS = 256 * 1024;
/** Clock skew allowed on Conditions and instants (Entra's real value is undocumented, §10.3). */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** Longest Conditions window accepted (Entra's real limit is undocumented, §1.4/§10.3). */
export const MAX_LIFETIME_MS = 24 * 60 * 60_000;

const NS = {
  trust: 'http://schemas.xmlsoap.org/ws/2005/02/trust',
  trust13: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wsp: 'http://schemas.xmlsoap.org/ws/2004/09/policy',
  wsa: 'http://www.w3.org/2005/08/addressing',
  saml: 'urn:oasis:names:tc:SAML:1.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
} as const;

const AUDIENCE = 'urn:federation:MicrosoftOnline';
const TOKEN_TYPE = 'urn:oasis:names:tc:SAML:1.0:assertion';
const REQUEST_TYPE = 'http://schemas.xmlsoap.org/ws/2005/02/trust/Issue';
const KEY_TYPE = 'http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey';
const NAMEID_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const BEARER = 'urn:oasis:names:tc:SAML:1.0:cm:bearer';

/** §1.5 */
const ALG = {
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  signature: ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'http://www.w3.org/2000/09/xmldsig#rsa-sha1'],
  digest: ['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2000/09/xmldsig#sha1'],
} as const;

/** Claim types (AttributeNamespace + "/" + AttributeName), §1.3, §1.4, §6. */
export const CLAIM = {
  upn: 'http://schemas.xmlsoap.org/claims/UPN',
  immutableId: 'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID',
  authenticationMethod: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/authenticationmethod',
  authnMethodsReferences: 'http://schemas.microsoft.com/claims/authnmethodsreferences',
  insideCorporateNetwork: 'http://schemas.microsoft.com/ws/2012/01/insidecorporatenetwork',
} as const;

/** §1.6, §6.1: values that claim MFA was done at the IdP. */
const MFA_METHODS = ['http://schemas.microsoft.com/claims/multipleauthn', 'http://schemas.microsoft.com/claims/wiaormultiauthn'];

/** §0 erratum: hosts whose namespace/claim/algorithm URIs are http:// only. */
const HTTP_ONLY_HOSTS = ['schemas.xmlsoap.org', 'schemas.microsoft.com', 'www.w3.org', 'docs.oasis-open.org'];

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

type Errors = { code: string; message: string }[];
type Domain = EntraTenant['domains'][number];

/** Checks a login.srf POST as Entra would. `now` defaults to the current time. */
export function validateLoginSrfPost(form: Record<string, string>, tenant: EntraTenant, request: EntraRequest, now: Date = new Date()): EntraVerdict {
  const errors: Errors = [];
  const fail = (code: string, message: string): void => { errors.push({ code, message }); };
  const verdict = (extra: Omit<EntraVerdict, 'accepted' | 'errors'> = {}): EntraVerdict =>
    ({ accepted: errors.length === 0, errors, ...extra });

  // §1.2 form fields
  const wa = form.wa;
  if (wa === undefined || wa === '') fail('AADSTS90081', 'wa is missing from the POST to login.srf');
  else if (wa !== 'wsignin1.0') fail('AADSTS90081', `wa must be wsignin1.0, got ${JSON.stringify(wa)}`);
  if ((form.wctx ?? '') !== request.wctx) {
    fail('WCTX_MISMATCH', `wctx must echo the request's wctx byte for byte: expected ${JSON.stringify(request.wctx)}, got ${JSON.stringify(form.wctx)}`);
  }
  const wresult = form.wresult;
  if (wresult === undefined || wresult.trim() === '') {
    fail('AADSTS20012', 'wresult is missing from the POST to login.srf');
    return verdict();
  }

  const parsed = parseHardened(wresult);
  if (typeof parsed === 'string') {
    fail('AADSTS90013', `wresult is not acceptable XML: ${parsed}`);
    return verdict();
  }

  // §0 erratum: any https:// form of a namespace, algorithm or claim URI
  for (const uri of httpsSchemaUris(parsed)) {
    fail('HTTPS_SCHEMA_URI', `${uri} must be the http:// form (namespace/claim/algorithm URIs are http://, §0 erratum)`);
  }

  // §1.3 RSTR envelope
  const rstr = parsed.documentElement;
  if (!rstr) {
    fail('AADSTS90013', 'wresult has no root element');
    return verdict();
  }
  if (rstr.localName === 'RequestSecurityTokenResponseCollection') {
    fail('RSTR_COLLECTION', 'wresult must be a bare RequestSecurityTokenResponse, not a ...ResponseCollection');
    return verdict();
  }
  if (rstr.localName !== 'RequestSecurityTokenResponse') {
    fail('AADSTS90013', `wresult root must be RequestSecurityTokenResponse, got ${rstr.localName ?? rstr.nodeName}`);
    return verdict();
  }
  if (rstr.namespaceURI !== NS.trust) {
    fail('RSTR_NAMESPACE', `RequestSecurityTokenResponse must be in the WS-Trust 2005 namespace ${NS.trust}, got ${String(rstr.namespaceURI)}`);
    return verdict();
  }
  checkLifetime(rstr, fail);
  const appliesTo = checkAppliesTo(rstr, fail);
  checkSingleUri(rstr, 'TokenType', TOKEN_TYPE, 'RSTR_TOKEN_TYPE', fail);
  checkSingleUri(rstr, 'RequestType', REQUEST_TYPE, 'RSTR_REQUEST_TYPE', fail);
  checkSingleUri(rstr, 'KeyType', KEY_TYPE, 'RSTR_KEY_TYPE', fail);
  const posted = requestedAssertion(rstr, fail);
  if (!posted) return verdict();

  // Unverified: only used to find the domain and its certificates.
  const assertionId = posted.getAttribute('AssertionID') ?? '';
  const postedIssuer = posted.getAttribute('Issuer') ?? '';
  if (assertionId === '') fail('ASSERTION_ID_MISSING', 'the assertion has no AssertionID');
  if (postedIssuer === '') fail('ISSUER_MISSING', 'the assertion has no Issuer');
  if (assertionId === '' || postedIssuer === '') return verdict();
  const domain = tenant.domains.find((d) => d.issuerUri === postedIssuer);
  if (!domain) {
    fail('AADSTS50107', `Requested federation realm object '${postedIssuer}' does not exist: no federated domain has this issuerUri`);
    return verdict();
  }

  // §1.5 signature; afterwards only the signed canonical XML is read.
  const signed = verifySignature(wresult, posted, assertionId, domain, fail);
  if (!signed) return verdict();
  return checkAssertion(signed, domain, appliesTo, tenant, request, now, fail, verdict);
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Parses untrusted XML: bounded size, no DTD of any kind, any parser warning is fatal. */
function parseHardened(xml: string): Document | string {
  if (xml.length > MAX_WRESULT_CHARS) return `larger than ${MAX_WRESULT_CHARS} characters`;
  if (/<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i.test(xml)) return 'DOCTYPE/ENTITY declarations are refused';
  try {
    return new DOMParser({ onError: onWarningStopParsing, locator: false }).parseFromString(xml, 'text/xml');
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function elementChildren(parent: Node): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === ELEMENT_NODE) out.push(n as Element);
  return out;
}

function children(parent: Node, ns: string, local: string): Element[] {
  return elementChildren(parent).filter((e) => e.namespaceURI === ns && e.localName === local);
}

function descendants(parent: Node, ns: string, local: string): Element[] {
  const out: Element[] = [];
  for (const e of elementChildren(parent)) {
    if (e.namespaceURI === ns && e.localName === local) out.push(e);
    out.push(...descendants(e, ns, local));
  }
  return out;
}

/** Text of an element: the concatenation of its text and CDATA children. */
function textOf(e: Element): string {
  let s = '';
  for (let n = e.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) s += n.nodeValue ?? '';
  }
  return s;
}

function attr(e: Element, name: string): string | undefined {
  return e.hasAttribute(name) ? (e.getAttribute(name) ?? undefined) : undefined;
}

function httpsSchemaUris(doc: Document): string[] {
  const found = new Set<string>();
  const consider = (value: string | null | undefined): void => {
    const v = (value ?? '').trim();
    const m = /^https:\/\/([^/#?]+)/i.exec(v);
    if (m?.[1] && HTTP_ONLY_HOSTS.includes(m[1].toLowerCase())) found.add(v);
  };
  const walk = (n: Node): void => {
    if (n.nodeType === ELEMENT_NODE) {
      const e = n as Element;
      consider(e.namespaceURI);
      for (let i = 0; i < e.attributes.length; i++) consider(e.attributes.item(i)?.value);
    } else if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) {
      consider(n.nodeValue);
    }
    for (let c = n.firstChild; c; c = c.nextSibling) walk(c);
  };
  walk(doc);
  return [...found];
}

/** xs:dateTime in UTC ("Z"), as SAML 1.1 requires for all time values. */
function parseInstant(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?Z$/.exec(value);
  if (!m) return undefined;
  const ms = (m[2] ?? '').padEnd(3, '0').slice(0, 3);
  const d = new Date(`${m[1]}.${ms}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

// ---------------------------------------------------------------------------------------------
// RSTR envelope (§1.3, §11.5)

type Fail = (code: string, message: string) => void;

function checkLifetime(rstr: Element, fail: Fail): void {
  const lifetimes = children(rstr, NS.trust, 'Lifetime');
  const lifetime = lifetimes[0];
  if (lifetimes.length !== 1 || !lifetime) {
    fail('RSTR_LIFETIME', `the RSTR must carry exactly one t:Lifetime (found ${lifetimes.length})`);
    return;
  }
  const created = children(lifetime, NS.wsu, 'Created');
  const expires = children(lifetime, NS.wsu, 'Expires');
  const c = created.length === 1 && created[0] ? parseInstant(textOf(created[0]).trim()) : undefined;
  const x = expires.length === 1 && expires[0] ? parseInstant(textOf(expires[0]).trim()) : undefined;
  if (!c || !x) fail('RSTR_LIFETIME', 't:Lifetime must hold one wsu:Created and one wsu:Expires, UTC xs:dateTime');
  else if (x.getTime() <= c.getTime()) fail('RSTR_LIFETIME', 't:Lifetime Expires must be after Created');
}

/** AppliesTo is optional (MS-MWBF) but when present must be the Entra realm; returns its address. */
function checkAppliesTo(rstr: Element, fail: Fail): string | undefined {
  const all = children(rstr, NS.wsp, 'AppliesTo');
  if (all.length === 0) return undefined;
  const addresses = all.length === 1 && all[0]
    ? children(all[0], NS.wsa, 'EndpointReference').flatMap((epr) => children(epr, NS.wsa, 'Address'))
    : [];
  const address = addresses.length === 1 && addresses[0] ? textOf(addresses[0]).trim() : undefined;
  if (address !== AUDIENCE) {
    fail('RSTR_APPLIES_TO', `wsp:AppliesTo must hold one wsa:EndpointReference/wsa:Address = ${AUDIENCE} (got ${JSON.stringify(address)})`);
  }
  return address ?? '';
}

function checkSingleUri(rstr: Element, local: string, expected: string, code: string, fail: Fail): void {
  const found = children(rstr, NS.trust, local);
  const value = found.length === 1 && found[0] ? textOf(found[0]).trim() : undefined;
  if (value !== expected) fail(code, `t:${local} must be ${expected} (got ${found.length === 1 ? JSON.stringify(value) : `${found.length} elements`})`);
}

/** RequestedSecurityToken must hold exactly one SAML 1.1 Assertion and nothing else, no whitespace. */
function requestedAssertion(rstr: Element, fail: Fail): Element | undefined {
  const rsts = children(rstr, NS.trust, 'RequestedSecurityToken');
  const rst = rsts[0];
  if (rsts.length !== 1 || !rst) {
    fail('RSTR_REQUESTED_TOKEN', `the RSTR must carry exactly one t:RequestedSecurityToken (found ${rsts.length})`);
    return undefined;
  }
  const elements = elementChildren(rst);
  for (let n = rst.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE) continue;
    if (n.nodeType === TEXT_NODE && (n.nodeValue ?? '').trim() === '') {
      fail('RSTR_WHITESPACE', 'no whitespace text may stand next to the assertion inside t:RequestedSecurityToken');
    } else {
      fail('RSTR_TOKEN_CONTENT', `t:RequestedSecurityToken may hold only the assertion (found node type ${n.nodeType})`);
    }
  }
  const assertion = elements[0];
  if (elements.length !== 1 || !assertion) {
    fail('RSTR_TOKEN_COUNT', `t:RequestedSecurityToken must hold exactly one saml:Assertion (found ${elements.length} elements)`);
    return undefined;
  }
  if (assertion.namespaceURI === NS.xenc && assertion.localName === 'EncryptedData') {
    fail('RSTR_TOKEN_COUNT', 'an encrypted token is not accepted by this stand-in: fedgate must send the saml:Assertion');
    return undefined;
  }
  if (assertion.namespaceURI !== NS.saml || assertion.localName !== 'Assertion') {
    fail('RSTR_TOKEN_COUNT', `t:RequestedSecurityToken must hold a SAML 1.1 saml:Assertion (${NS.saml}), got {${String(assertion.namespaceURI)}}${assertion.localName ?? ''}`);
    return undefined;
  }
  return assertion;
}

// ---------------------------------------------------------------------------------------------
// Signature (§1.5)

function normalizeCert(b64: string): string {
  return b64.replace(/\s+/g, '');
}

function pemOf(b64Der: string): string {
  const body = normalizeCert(b64Der).replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

function algorithmOf(parent: Element, local: string): string | undefined {
  const found = children(parent, NS.ds, local);
  return found.length === 1 && found[0] ? attr(found[0], 'Algorithm') : undefined;
}

/**
 * Verifies the enveloped signature of `posted` with the domain's configured certificate(s) and
 * returns the signed assertion parsed from the canonical XML the signature covers.
 */
function verifySignature(wresult: string, posted: Element, assertionId: string, domain: Domain, fail: Fail): Element | undefined {
  const bad = (message: string): undefined => { fail('AADSTS50008', message); return undefined; };
  const signatures = children(posted, NS.ds, 'Signature');
  const signature = signatures[0];
  if (signatures.length === 0 || !signature) return bad('the assertion is not signed (no ds:Signature child of saml:Assertion)');
  if (signatures.length > 1) return bad('the assertion carries more than one ds:Signature');
  if (elementChildren(posted).at(-1) !== signature) return bad('ds:Signature must be the last child of saml:Assertion (SAML 1.1 schema)');

  // What the signature says it is (the SignedInfo read here is the one whose canonical form is verified below).
  const signedInfos = children(signature, NS.ds, 'SignedInfo');
  const signedInfo = signedInfos[0];
  if (signedInfos.length !== 1 || !signedInfo) return bad('ds:Signature must hold exactly one ds:SignedInfo');
  const c14n = algorithmOf(signedInfo, 'CanonicalizationMethod');
  if (c14n !== ALG.excC14n) return bad(`CanonicalizationMethod must be ${ALG.excC14n} (got ${String(c14n)})`);
  const sigAlg = algorithmOf(signedInfo, 'SignatureMethod');
  if (!(ALG.signature as readonly string[]).includes(sigAlg ?? '')) return bad(`SignatureMethod must be RSA-SHA256 or RSA-SHA1 (got ${String(sigAlg)})`);
  const references = children(signedInfo, NS.ds, 'Reference');
  const reference = references[0];
  if (references.length !== 1 || !reference) return bad(`the signature must have exactly one ds:Reference (found ${references.length})`);
  const uri = attr(reference, 'URI');
  if (uri !== `#${assertionId}`) return bad(`the ds:Reference must point at the assertion: URI="#${assertionId}" (got ${JSON.stringify(uri)})`);
  const transformsEls = children(reference, NS.ds, 'Transforms');
  const transforms = transformsEls.length === 1 && transformsEls[0]
    ? children(transformsEls[0], NS.ds, 'Transform').map((t) => attr(t, 'Algorithm') ?? '')
    : [];
  if (transforms.length !== 2 || transforms[0] !== ALG.enveloped || transforms[1] !== ALG.excC14n) {
    return bad(`the transforms must be enveloped-signature then exc-c14n (got ${JSON.stringify(transforms)})`);
  }
  const digestAlg = algorithmOf(reference, 'DigestMethod');
  if (!(ALG.digest as readonly string[]).includes(digestAlg ?? '')) return bad(`DigestMethod must be SHA-256 or SHA-1 (got ${String(digestAlg)})`);

  // KeyInfo must carry the certificate, and it must be the domain's current or next one (§1.5, §5.1).
  const certs = children(signature, NS.ds, 'KeyInfo').flatMap((k) => descendants(k, NS.ds, 'X509Certificate'));
  const keyInfoCert = certs.length === 1 && certs[0] ? normalizeCert(textOf(certs[0])) : undefined;
  if (!keyInfoCert) return bad(`ds:KeyInfo must carry exactly one X509Certificate (found ${certs.length})`);
  const configured = [domain.signingCertificate, domain.nextSigningCertificate]
    .filter((c): c is string => c !== undefined && c !== '')
    .map(normalizeCert);
  const trusted = configured.find((c) => c === keyInfoCert);
  if (!trusted) return bad(`the KeyInfo certificate is neither signingCertificate nor nextSigningCertificate of ${domain.name}`);

  // Verify with the tenant's copy of the certificate, never with KeyInfo's.
  const sig = new SignedXml({ publicCert: pemOf(trusted), idAttribute: 'AssertionID', getCertFromKeyInfo: () => null });
  let valid: boolean;
  try {
    sig.loadSignature(signature as unknown as Parameters<SignedXml['loadSignature']>[0]);
    valid = sig.checkSignature(wresult);
  } catch (err) {
    return bad(`signature verification failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!valid) return bad('signature verification failed: the digest or the signature value does not match');
  const signedReferences = sig.getSignedReferences();
  const signedXml = signedReferences[0];
  if (signedReferences.length !== 1 || signedXml === undefined) return bad('the signature must cover exactly one reference');
  const signedDoc = parseHardened(signedXml);
  const signed = typeof signedDoc === 'string' ? undefined : signedDoc.documentElement;
  if (!signed || signed.namespaceURI !== NS.saml || signed.localName !== 'Assertion' || attr(signed, 'AssertionID') !== assertionId) {
    return bad('what the signature covers is not the posted saml:Assertion');
  }
  return signed;
}

// ---------------------------------------------------------------------------------------------
// Assertion content (§1.3, §1.4, §6, §7) — `signed` is the canonical XML the signature covers.

interface SubjectInfo { readonly nameId: string; readonly format: string | undefined; readonly qualifier: string | undefined; readonly methods: readonly string[] }

function subjectOf(statement: Element, where: string, fail: Fail): SubjectInfo | undefined {
  const subjects = children(statement, NS.saml, 'Subject');
  const subject = subjects[0];
  if (subjects.length !== 1 || !subject) {
    fail('SUBJECT_INVALID', `${where} must have exactly one saml:Subject`);
    return undefined;
  }
  const nameIds = children(subject, NS.saml, 'NameIdentifier');
  const nameIdEl = nameIds[0];
  if (nameIds.length !== 1 || !nameIdEl) {
    fail('SUBJECT_INVALID', `${where} saml:Subject must have exactly one saml:NameIdentifier`);
    return undefined;
  }
  const format = attr(nameIdEl, 'Format');
  if (format !== NAMEID_FORMAT) fail('NAMEID_FORMAT', `${where} NameIdentifier Format must be ${NAMEID_FORMAT} (got ${JSON.stringify(format)})`);
  const confirmations = children(subject, NS.saml, 'SubjectConfirmation');
  const methods = confirmations.flatMap((c) => children(c, NS.saml, 'ConfirmationMethod')).map((m) => textOf(m).trim());
  if (confirmations.length !== 1 || methods.length !== 1 || methods[0] !== BEARER) {
    fail('SUBJECT_CONFIRMATION', `${where} must have one SubjectConfirmation with ConfirmationMethod ${BEARER} (got ${JSON.stringify(methods)})`);
  }
  return { nameId: textOf(nameIdEl), format, qualifier: attr(nameIdEl, 'NameQualifier'), methods };
}

function sameSubject(a: SubjectInfo, b: SubjectInfo): boolean {
  return a.nameId === b.nameId && a.format === b.format && a.qualifier === b.qualifier &&
    a.methods.length === b.methods.length && a.methods.every((m, i) => m === b.methods[i]);
}

/** The federated domain that governs a UPN: the longest configured name equal to, or a parent of, its suffix. */
function governingDomain(upn: string, tenant: EntraTenant): Domain | undefined {
  const suffix = upn.slice(upn.lastIndexOf('@') + 1).toLowerCase();
  return tenant.domains
    .filter((d) => { const n = d.name.toLowerCase(); return suffix === n || suffix.endsWith(`.${n}`); })
    .sort((x, y) => y.name.length - x.name.length)[0];
}

function checkAssertion(
  signed: Element, domain: Domain, appliesTo: string | undefined, tenant: EntraTenant, request: EntraRequest, now: Date,
  fail: Fail, verdict: (extra?: Omit<EntraVerdict, 'accepted' | 'errors'>) => EntraVerdict,
): EntraVerdict {
  const issuer = attr(signed, 'Issuer') ?? '';
  if (issuer !== domain.issuerUri) fail('AADSTS50107', `Issuer ${JSON.stringify(issuer)} is not the issuerUri of ${domain.name}`);
  if (attr(signed, 'MajorVersion') !== '1' || attr(signed, 'MinorVersion') !== '1') {
    fail('ASSERTION_VERSION', `the assertion must be SAML 1.1: MajorVersion="1" MinorVersion="1" (got ${String(attr(signed, 'MajorVersion'))}.${String(attr(signed, 'MinorVersion'))})`);
  }
  const issueInstant = parseInstant(attr(signed, 'IssueInstant'));
  if (!issueInstant) fail('ISSUE_INSTANT', `IssueInstant must be present, a UTC xs:dateTime (got ${JSON.stringify(attr(signed, 'IssueInstant'))})`);
  else if (issueInstant.getTime() > now.getTime() + CLOCK_SKEW_MS) fail('ISSUE_INSTANT', `IssueInstant ${attr(signed, 'IssueInstant') ?? ''} is in the future`);

  // Conditions
  const conditionsAll = children(signed, NS.saml, 'Conditions');
  const conditions = conditionsAll[0];
  if (conditionsAll.length !== 1 || !conditions) {
    fail('CONDITIONS_MISSING', `the assertion must have exactly one saml:Conditions (found ${conditionsAll.length})`);
  } else {
    const notBefore = parseInstant(attr(conditions, 'NotBefore'));
    const notOnOrAfter = parseInstant(attr(conditions, 'NotOnOrAfter'));
    if (!notBefore || !notOnOrAfter) {
      fail('CONDITIONS_MISSING', 'Conditions must carry both NotBefore and NotOnOrAfter as UTC xs:dateTime');
    } else {
      if (now.getTime() + CLOCK_SKEW_MS < notBefore.getTime()) fail('TOKEN_NOT_YET_VALID', `the token is not valid before ${notBefore.toISOString()}`);
      if (now.getTime() - CLOCK_SKEW_MS >= notOnOrAfter.getTime()) fail('TOKEN_EXPIRED', `the token expired at ${notOnOrAfter.toISOString()}`);
      const span = notOnOrAfter.getTime() - notBefore.getTime();
      if (span <= 0) fail('TOKEN_LIFETIME', 'NotOnOrAfter must be after NotBefore');
      else if (span > MAX_LIFETIME_MS) fail('TOKEN_LIFETIME', `the token lifetime of ${Math.round(span / 60_000)} min exceeds 24 h`);
    }
    const audiences = children(conditions, NS.saml, 'AudienceRestrictionCondition').flatMap((a) => children(a, NS.saml, 'Audience'));
    const audience = audiences.length === 1 && audiences[0] ? textOf(audiences[0]).trim() : undefined;
    if (audience !== AUDIENCE) {
      fail('AUDIENCE_INVALID', `Conditions must hold exactly one Audience = ${AUDIENCE} (got ${JSON.stringify(audiences.map((a) => textOf(a)))})`);
    }
    if (appliesTo !== undefined && audience !== undefined && appliesTo !== audience) {
      fail('RSTR_APPLIES_TO', `AppliesTo ${JSON.stringify(appliesTo)} must duplicate the Audience ${JSON.stringify(audience)}`);
    }
  }

  // Statements and subjects
  const attrStatements = children(signed, NS.saml, 'AttributeStatement');
  const authnStatements = children(signed, NS.saml, 'AuthenticationStatement');
  const attrStatement = attrStatements[0];
  const authnStatement = authnStatements[0];
  if (attrStatements.length !== 1 || !attrStatement) fail('ATTRIBUTE_STATEMENT', `the assertion must have exactly one saml:AttributeStatement (found ${attrStatements.length})`);
  if (authnStatements.length !== 1 || !authnStatement) fail('AUTHENTICATION_STATEMENT', `the assertion must have exactly one saml:AuthenticationStatement (found ${authnStatements.length})`);
  if (!attrStatement || !authnStatement) return verdict();
  const attrSubject = subjectOf(attrStatement, 'AttributeStatement', fail);
  const authnSubject = subjectOf(authnStatement, 'AuthenticationStatement', fail);
  if (!attrSubject || !authnSubject) return verdict();
  if (!sameSubject(attrSubject, authnSubject)) fail('SUBJECT_MISMATCH', 'the AttributeStatement and AuthenticationStatement subjects must be identical');

  // §7: the user is found by ImmutableID (case-sensitive)
  const nameId = attrSubject.nameId;
  const found = tenant.users.find((u) => u.immutableId === nameId);
  if (!found) fail('AADSTS51004', `no user in the tenant has ImmutableID ${JSON.stringify(nameId)}`);
  const user = found ? { upn: found.upn, immutableId: found.immutableId } : undefined;

  // Attributes: one Attribute element per (name, namespace), holding all its values
  const attributes: Record<string, string[]> = {};
  for (const a of children(attrStatement, NS.saml, 'Attribute')) {
    const name = attr(a, 'AttributeName');
    const namespace = attr(a, 'AttributeNamespace');
    if (!name || !namespace) {
      fail('ATTRIBUTE_INVALID', 'every saml:Attribute needs AttributeName and AttributeNamespace');
      continue;
    }
    const values = children(a, NS.saml, 'AttributeValue').map(textOf);
    if (values.length === 0) fail('ATTRIBUTE_INVALID', `attribute ${name} (${namespace}) has no AttributeValue`);
    const key = `${namespace}/${name}`;
    if (attributes[key]) fail('DUPLICATE_ATTRIBUTE', `attribute ${name} (${namespace}) appears in more than one saml:Attribute element`);
    attributes[key] = [...(attributes[key] ?? []), ...values];
  }
  const upnValues = attributes[CLAIM.upn];
  if (!upnValues) fail('UPN_MISSING', `attribute UPN (namespace http://schemas.xmlsoap.org/claims) is missing`);
  else if (upnValues.length !== 1 || (user && upnValues[0]?.toLowerCase() !== user.upn.toLowerCase())) {
    fail('UPN_MISMATCH', `attribute UPN ${JSON.stringify(upnValues)} must be the user's UPN ${JSON.stringify(user?.upn)}`);
  }
  const immutableIdValues = attributes[CLAIM.immutableId];
  if (!immutableIdValues) fail('IMMUTABLEID_MISSING', 'attribute ImmutableID (namespace http://schemas.microsoft.com/LiveID/Federation/2008/05) is missing');
  else if (immutableIdValues.length !== 1 || immutableIdValues[0] !== nameId) {
    fail('IMMUTABLEID_MISMATCH', `attribute ImmutableID ${JSON.stringify(immutableIdValues)} must equal the NameIdentifier ${JSON.stringify(nameId)}`);
  }

  // §1.4, §11.1: the issuer must be that of the user's (parent) federated domain
  if (user) {
    const governing = governingDomain(user.upn, tenant);
    if (!governing) fail('ISSUER_DOMAIN_MISMATCH', `${user.upn} is not in any federated domain`);
    else if (governing.issuerUri !== domain.issuerUri) {
      fail('ISSUER_DOMAIN_MISMATCH', `${user.upn} belongs to ${governing.name} (issuer ${governing.issuerUri}), but the token was issued by ${domain.issuerUri} (${domain.name})`);
    }
  }

  // AuthenticationStatement
  const authenticationMethod = attr(authnStatement, 'AuthenticationMethod') ?? '';
  const authenticationInstant = attr(authnStatement, 'AuthenticationInstant') ?? '';
  if (authenticationMethod.trim() === '') fail('AUTHN_METHOD_MISSING', 'AuthenticationStatement must carry AuthenticationMethod');
  const instant = parseInstant(authenticationInstant);
  if (!instant) fail('AUTHN_INSTANT_INVALID', `AuthenticationInstant must be present, a UTC xs:dateTime (got ${JSON.stringify(authenticationInstant)})`);
  else {
    if (instant.getTime() > now.getTime() + CLOCK_SKEW_MS) fail('AUTHN_INSTANT_FUTURE', `AuthenticationInstant ${authenticationInstant} is in the future`);
    if (request.expectFreshAuthAfter && instant.getTime() < request.expectFreshAuthAfter.getTime()) {
      fail('AUTHN_NOT_FRESH', `a fresh sign-in was demanded after ${request.expectFreshAuthAfter.toISOString()}, but AuthenticationInstant is ${authenticationInstant}`);
    }
  }

  // §6.1 MFA
  const mfaClaimed = [authenticationMethod.trim(), ...(attributes[CLAIM.authenticationMethod] ?? []), ...(attributes[CLAIM.authnMethodsReferences] ?? [])]
    .some((v) => MFA_METHODS.includes(v.trim()));
  if (mfaClaimed && !request.expectMfa) fail('MFA_CLAIMED_NOT_PERFORMED', 'mfa claimed but not performed');
  const behavior = tenant.federatedIdpMfaBehavior ?? 'acceptIfMfaDoneByFederatedIdp';
  if (request.expectMfa && !mfaClaimed && behavior === 'enforceMfaByFederatedIdp') {
    fail('MFA_NOT_CLAIMED', 'Entra demanded MFA from the federated IdP (enforceMfaByFederatedIdp) but the token does not claim it');
  }

  // §6.2 insidecorporatenetwork
  const corpnet = attributes[CLAIM.insideCorporateNetwork];
  if (corpnet && (corpnet.length !== 1 || (corpnet[0] !== 'true' && corpnet[0] !== 'false'))) {
    fail('INSIDE_CORPNET_INVALID', `insidecorporatenetwork must be a single "true" or "false" (got ${JSON.stringify(corpnet)})`);
  }

  const claims = {
    issuer,
    authenticationMethod,
    authenticationInstant,
    ...(corpnet?.[0] !== undefined ? { insideCorporateNetwork: corpnet[0] } : {}),
    mfa: mfaClaimed && behavior !== 'rejectMfaByFederatedIdp',
    attributes,
  };
  return verdict(user ? { user, claims } : { claims });
}
