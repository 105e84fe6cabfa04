/**
 * Tests of the Entra login.srf stand-in on tokens built here, independently of fedgate: a SAML 1.1
 * assertion written as a string template, signed with xml-crypto's SignedXml, wrapped in the
 * AD FS-shaped RSTR of entra-federation.md §1.3.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignedXml } from 'xml-crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { CLAIM, MAX_WRESULT_CHARS, validateLoginSrfPost, type EntraRequest, type EntraTenant, type EntraVerdict } from './login-srf.js';

// ---------------------------------------------------------------------------------------------
// Keys: RSA-2048 self-signed certificates made with openssl, like AD FS token-signing certs (§1.5)

interface KeyPair { readonly key: string; readonly certPem: string; readonly certB64: string }

const keyDir = mkdtempSync(join(tmpdir(), 'entra-login-srf-'));
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

function makeKeyPair(cn: string): KeyPair {
  const keyFile = join(keyDir, `${cn}.key`);
  const certFile = join(keyDir, `${cn}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '365',
    '-subj', `/CN=${cn}`, '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  const certPem = readFileSync(certFile, 'utf8');
  const certB64 = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return { key: readFileSync(keyFile, 'utf8'), certPem, certB64 };
}

const CONTOSO = makeKeyPair('ADFS Signing - sts.contoso.com');
const CONTOSO_NEXT = makeKeyPair('ADFS Signing - sts.contoso.com (next)');
const FABRIKAM = makeKeyPair('ADFS Signing - sts.fabrikam.com');
const ATTACKER = makeKeyPair('ADFS Signing - evil');

// ---------------------------------------------------------------------------------------------
// Tenant and request

const CONTOSO_ISSUER = 'http://contoso.com/adfs/services/trust/';
const FABRIKAM_ISSUER = 'http://fabrikam.com/adfs/services/trust/';
const ALICE = { upn: 'alice@contoso.com', immutableId: 'cBxVeG+XQECCbDIdvNJ4fg==' };
const BOB = { upn: 'bob@sales.contoso.com', immutableId: '1MOyofbliUeavN7wEjRWeA==' };
const CAROL = { upn: 'carol@fabrikam.com', immutableId: 'obLD1OX2R4mavN7wEjRWeA==' };

const TENANT: EntraTenant = {
  domains: [
    { name: 'contoso.com', issuerUri: CONTOSO_ISSUER, signingCertificate: CONTOSO.certB64, nextSigningCertificate: CONTOSO_NEXT.certB64 },
    { name: 'fabrikam.com', issuerUri: FABRIKAM_ISSUER, signingCertificate: FABRIKAM.certB64 },
  ],
  users: [ALICE, BOB, CAROL],
};

const NOW = new Date('2026-03-01T10:00:00.000Z');
const at = (minutes: number): string => new Date(NOW.getTime() + minutes * 60_000).toISOString();
const WCTX = 'estsredirect=2&estsrequest=rQQIARAAvVLNa9NQHG_WdZ3Dj7GD7CJ2sFuTvJfPl4DDfnjYmqxtk3VpLpK8vKbNmqRNXr98bsTIRCd6ANRnCEQvBlEQT9Rzr1_BXESbFjX27_HIOyyb25ew';
const REQUEST: EntraRequest = { wctx: WCTX, sentAt: new Date(NOW.getTime() - 60_000) };

// ---------------------------------------------------------------------------------------------
// Token builder

const ALG = {
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
} as const;
const PASSWORD_PROTECTED = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';
const MULTIPLEAUTHN = 'http://schemas.microsoft.com/claims/multipleauthn';
const ASSERTION_ID = '_79639b8f-1c2d-4e5f-8a9b-0c1d2e3f4a5b';

interface Parts {
  readonly id: string;
  readonly issuer: string;
  readonly issueInstant: string;
  readonly major: string;
  readonly minor: string;
  readonly notBefore: string;
  readonly notOnOrAfter: string;
  readonly audience: string;
  readonly nameId: string;
  readonly nameIdFormat: string;
  readonly confirmation: string;
  readonly upn: string;
  readonly immutableIdAttr: string;
  readonly extraAttributes: string;
  readonly authnMethod: string;
  readonly authnInstant: string;
}

const DEFAULT_PARTS: Parts = {
  id: ASSERTION_ID,
  issuer: CONTOSO_ISSUER,
  issueInstant: at(0),
  major: '1',
  minor: '1',
  notBefore: at(0),
  notOnOrAfter: at(60),
  audience: 'urn:federation:MicrosoftOnline',
  nameId: ALICE.immutableId,
  nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  confirmation: 'urn:oasis:names:tc:SAML:1.0:cm:bearer',
  upn: ALICE.upn,
  immutableIdAttr: ALICE.immutableId,
  extraAttributes: attribute('authnmethodsreferences', 'http://schemas.microsoft.com/claims', PASSWORD_PROTECTED),
  authnMethod: PASSWORD_PROTECTED,
  authnInstant: at(-1),
};

function attribute(name: string, namespace: string, ...values: string[]): string {
  return `<saml:Attribute AttributeName="${name}" AttributeNamespace="${namespace}">` +
    values.map((v) => `<saml:AttributeValue>${v}</saml:AttributeValue>`).join('') + '</saml:Attribute>';
}

function subject(p: Parts): string {
  return `<saml:Subject><saml:NameIdentifier Format="${p.nameIdFormat}">${p.nameId}</saml:NameIdentifier>` +
    `<saml:SubjectConfirmation><saml:ConfirmationMethod>${p.confirmation}</saml:ConfirmationMethod></saml:SubjectConfirmation></saml:Subject>`;
}

/** The S11 assertion shape (§1.3), without the signature. */
function assertionXml(p: Parts): string {
  return `<saml:Assertion MajorVersion="${p.major}" MinorVersion="${p.minor}" AssertionID="${p.id}" Issuer="${p.issuer}" IssueInstant="${p.issueInstant}" xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion">` +
    `<saml:Conditions NotBefore="${p.notBefore}" NotOnOrAfter="${p.notOnOrAfter}"><saml:AudienceRestrictionCondition><saml:Audience>${p.audience}</saml:Audience></saml:AudienceRestrictionCondition></saml:Conditions>` +
    `<saml:AttributeStatement>${subject(p)}` +
    attribute('UPN', 'http://schemas.xmlsoap.org/claims', p.upn) +
    attribute('ImmutableID', 'http://schemas.microsoft.com/LiveID/Federation/2008/05', p.immutableIdAttr) +
    p.extraAttributes +
    `</saml:AttributeStatement>` +
    `<saml:AuthenticationStatement AuthenticationMethod="${p.authnMethod}" AuthenticationInstant="${p.authnInstant}">${subject(p)}</saml:AuthenticationStatement>` +
    `</saml:Assertion>`;
}

interface SignOptions {
  readonly keyPair?: KeyPair;
  /** base64 DER put in KeyInfo; default the signing key's own certificate; null = no KeyInfo. */
  readonly keyInfoCert?: string | null;
  readonly signatureAlgorithm?: string;
  readonly digestAlgorithm?: string;
  readonly canonicalization?: string;
  readonly transforms?: readonly string[];
  /** Reference URI="" (the whole document) instead of #AssertionID. */
  readonly emptyUri?: boolean;
}

const ASSERTION_XPATH = "/*[local-name(.)='Assertion']";

function sign(xml: string, o: SignOptions = {}): string {
  const keyPair = o.keyPair ?? CONTOSO;
  const keyInfoCert = o.keyInfoCert === undefined ? keyPair.certB64 : o.keyInfoCert;
  const sig = new SignedXml({
    privateKey: keyPair.key,
    publicCert: keyPair.certPem,
    idAttribute: 'AssertionID',
    signatureAlgorithm: o.signatureAlgorithm ?? ALG.rsaSha256,
    canonicalizationAlgorithm: o.canonicalization ?? ALG.excC14n,
    getKeyInfoContent: () => (keyInfoCert === null ? null : `<X509Data><X509Certificate>${keyInfoCert}</X509Certificate></X509Data>`),
  });
  sig.addReference({
    xpath: ASSERTION_XPATH,
    transforms: o.transforms ?? [ALG.enveloped, ALG.excC14n],
    digestAlgorithm: o.digestAlgorithm ?? ALG.sha256,
    ...(o.emptyUri ? { isEmptyUri: true } : {}),
  });
  sig.computeSignature(xml, { location: { reference: ASSERTION_XPATH, action: 'append' } });
  return sig.getSignedXml();
}

interface RstrOptions {
  readonly appliesTo?: string | null;
  readonly tokenType?: string;
  readonly requestType?: string;
  readonly keyType?: string;
  readonly trustNs?: string;
}

const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';

/** The S11 RSTR shape (§1.3) around an already signed assertion. */
function rstrXml(signedAssertion: string, o: RstrOptions = {}): string {
  const appliesTo = o.appliesTo === undefined ? 'urn:federation:MicrosoftOnline' : o.appliesTo;
  return `<t:RequestSecurityTokenResponse xmlns:t="${o.trustNs ?? 'http://schemas.xmlsoap.org/ws/2005/02/trust'}">` +
    `<t:Lifetime><wsu:Created xmlns:wsu="${WSU}">${at(0)}</wsu:Created><wsu:Expires xmlns:wsu="${WSU}">${at(60)}</wsu:Expires></t:Lifetime>` +
    (appliesTo === null ? '' : `<wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>${appliesTo}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>`) +
    `<t:RequestedSecurityToken>${signedAssertion}</t:RequestedSecurityToken>` +
    `<t:TokenType>${o.tokenType ?? 'urn:oasis:names:tc:SAML:1.0:assertion'}</t:TokenType>` +
    `<t:RequestType>${o.requestType ?? 'http://schemas.xmlsoap.org/ws/2005/02/trust/Issue'}</t:RequestType>` +
    `<t:KeyType>${o.keyType ?? 'http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey'}</t:KeyType>` +
    `</t:RequestSecurityTokenResponse>`;
}

interface TokenOptions {
  readonly parts?: Partial<Parts>;
  /** Edits the assertion before it is signed (the signature stays valid). */
  readonly unsigned?: (xml: string) => string;
  readonly sign?: SignOptions | false;
  /** Edits the signed assertion (breaks or moves around what was signed). */
  readonly signed?: (xml: string) => string;
  readonly rstr?: RstrOptions;
  /** Edits the whole RSTR text. */
  readonly edit?: (xml: string) => string;
}

function signedAssertion(o: TokenOptions = {}): string {
  const raw = (o.unsigned ?? ((x: string) => x))(assertionXml({ ...DEFAULT_PARTS, ...o.parts }));
  const signed = o.sign === false ? raw : sign(raw, o.sign);
  return (o.signed ?? ((x: string) => x))(signed);
}

function token(o: TokenOptions = {}): string {
  return (o.edit ?? ((x: string) => x))(rstrXml(signedAssertion(o), o.rstr));
}

function post(wresult: string, extra: Record<string, string> = {}): Record<string, string> {
  return { wa: 'wsignin1.0', wresult, wctx: WCTX, ...extra };
}

function check(o: TokenOptions = {}, request: Partial<EntraRequest> = {}, tenant: EntraTenant = TENANT): EntraVerdict {
  return validateLoginSrfPost(post(token(o)), tenant, { ...REQUEST, ...request }, NOW);
}

function codes(v: EntraVerdict): string[] {
  return v.errors.map((e) => e.code);
}

/** The verdict rejects the token and names exactly these codes (one thing wrong, one reason given). */
function expectRejected(v: EntraVerdict, ...expected: string[]): void {
  expect(v.accepted).toBe(false);
  expect([...new Set(codes(v))].sort()).toEqual([...new Set(expected)].sort());
}

function expectAccepted(v: EntraVerdict): void {
  expect(v.errors).toEqual([]);
  expect(v.accepted).toBe(true);
}

/** The signed assertion's ds:Signature element, as text. */
function signatureOf(xml: string): string {
  const m = /<Signature[\s\S]*<\/Signature>/.exec(xml);
  if (!m) throw new Error('no signature');
  return m[0];
}

// ---------------------------------------------------------------------------------------------

describe('Entra login.srf stand-in: tokens it accepts', () => {
  it('accepts an AD FS-shaped token and reports the user and claims it read', () => {
    const v = check();
    expectAccepted(v);
    expect(v.user).toEqual(ALICE);
    expect(v.claims).toMatchObject({
      issuer: CONTOSO_ISSUER,
      authenticationMethod: PASSWORD_PROTECTED,
      authenticationInstant: at(-1),
      mfa: false,
    });
    expect(v.claims?.insideCorporateNetwork).toBeUndefined();
    expect(v.claims?.attributes[CLAIM.upn]).toEqual([ALICE.upn]);
    expect(v.claims?.attributes[CLAIM.immutableId]).toEqual([ALICE.immutableId]);
    expect(v.claims?.attributes[CLAIM.authnMethodsReferences]).toEqual([PASSWORD_PROTECTED]);
  });

  it('accepts a token signed with the nextSigningCertificate (§5.1)', () => {
    expectAccepted(check({ sign: { keyPair: CONTOSO_NEXT } }));
  });

  it('accepts RSA-SHA1 with a SHA-1 digest (§1.5: still accepted)', () => {
    expectAccepted(check({ sign: { signatureAlgorithm: ALG.rsaSha1, digestAlgorithm: ALG.sha1 } }));
  });

  it('accepts a sub-domain user issued with the parent domain issuer (§1.4)', () => {
    const v = check({ parts: { nameId: BOB.immutableId, immutableIdAttr: BOB.immutableId, upn: BOB.upn } });
    expectAccepted(v);
    expect(v.user).toEqual(BOB);
  });

  it('accepts the other federated domain with its own issuer and certificate', () => {
    expectAccepted(check({ parts: { issuer: FABRIKAM_ISSUER, nameId: CAROL.immutableId, immutableIdAttr: CAROL.immutableId, upn: CAROL.upn }, sign: { keyPair: FABRIKAM } }));
  });

  it('accepts the UPN attribute in another case (UPN match is case-insensitive)', () => {
    expectAccepted(check({ parts: { upn: 'Alice@CONTOSO.com' } }));
  });

  it('accepts a token without AppliesTo (MS-MWBF: MAY be present)', () => {
    expectAccepted(check({ rstr: { appliesTo: null } }));
  });

  it('accepts clock skew of under 5 minutes on both ends of Conditions', () => {
    expectAccepted(check({ parts: { notBefore: at(4), issueInstant: at(4), authnInstant: at(3), notOnOrAfter: at(60) } }));
    expectAccepted(check({ parts: { notBefore: at(-60), issueInstant: at(-60), authnInstant: at(-61), notOnOrAfter: at(-4) } }));
  });

  it('accepts an empty wctx for an IdP-initiated sign-in', () => {
    expectAccepted(validateLoginSrfPost(post(token(), { wctx: '' }), TENANT, { ...REQUEST, wctx: '' }, NOW));
  });

  it('accepts a fresh sign-in after wfresh=0 and reports it', () => {
    expectAccepted(check({ parts: { authnInstant: at(0) } }, { expectFreshAuthAfter: new Date(NOW.getTime() - 30_000) }));
  });

  it('accepts MFA claimed in all three places when MFA was performed (§6.1)', () => {
    const extraAttributes =
      attribute('authnmethodsreferences', 'http://schemas.microsoft.com/claims', PASSWORD_PROTECTED, MULTIPLEAUTHN) +
      attribute('authenticationmethod', 'http://schemas.microsoft.com/ws/2008/06/identity/claims', MULTIPLEAUTHN);
    const v = check({ parts: { authnMethod: MULTIPLEAUTHN, extraAttributes } }, { expectMfa: true });
    expectAccepted(v);
    expect(v.claims?.mfa).toBe(true);
    expect(v.claims?.attributes[CLAIM.authnMethodsReferences]).toEqual([PASSWORD_PROTECTED, MULTIPLEAUTHN]);
  });

  it('ignores the IdP MFA claim under rejectMfaByFederatedIdp (claims.mfa false, still accepted)', () => {
    const v = check({ parts: { authnMethod: MULTIPLEAUTHN } }, { expectMfa: true }, { ...TENANT, federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' });
    expectAccepted(v);
    expect(v.claims?.mfa).toBe(false);
  });

  it('reports insidecorporatenetwork (§6.2)', () => {
    const v = check({ parts: { extraAttributes: attribute('insidecorporatenetwork', 'http://schemas.microsoft.com/ws/2012/01', 'true') } });
    expectAccepted(v);
    expect(v.claims?.insideCorporateNetwork).toBe('true');
    expect(v.claims?.attributes[CLAIM.insideCorporateNetwork]).toEqual(['true']);
  });

  it('accepts several values of one attribute in one Attribute element', () => {
    const v = check({ parts: { extraAttributes: attribute('group', 'http://schemas.xmlsoap.org/claims', 'a', 'b') } });
    expectAccepted(v);
    expect(v.claims?.attributes['http://schemas.xmlsoap.org/claims/group']).toEqual(['a', 'b']);
  });
});

describe('Entra login.srf stand-in: the form (§1.2)', () => {
  it('AADSTS90081 when wa is missing', () => {
    const form = post(token());
    delete form.wa;
    expectRejected(validateLoginSrfPost(form, TENANT, REQUEST, NOW), 'AADSTS90081');
  });

  it('AADSTS90081 when wa is not wsignin1.0', () => {
    expectRejected(validateLoginSrfPost(post(token(), { wa: 'wsignout1.0' }), TENANT, REQUEST, NOW), 'AADSTS90081');
  });

  it('wctx must be echoed byte for byte', () => {
    for (const wctx of [encodeURIComponent(WCTX), `${WCTX} `, WCTX.replace('estsredirect', 'EstsRedirect')]) {
      expectRejected(validateLoginSrfPost(post(token(), { wctx }), TENANT, REQUEST, NOW), 'WCTX_MISMATCH');
    }
    const form = post(token());
    delete form.wctx;
    expectRejected(validateLoginSrfPost(form, TENANT, REQUEST, NOW), 'WCTX_MISMATCH');
  });

  it('AADSTS20012 when wresult is missing or empty', () => {
    const form = post('');
    expectRejected(validateLoginSrfPost(form, TENANT, REQUEST, NOW), 'AADSTS20012');
    delete form.wresult;
    expectRejected(validateLoginSrfPost(form, TENANT, REQUEST, NOW), 'AADSTS20012');
  });

  it('AADSTS90013 when wresult is not well-formed XML', () => {
    expectRejected(validateLoginSrfPost(post('<t:RequestSecurityTokenResponse xmlns:t="x"><unclosed>'), TENANT, REQUEST, NOW), 'AADSTS90013');
    expectRejected(validateLoginSrfPost(post('not xml at all'), TENANT, REQUEST, NOW), 'AADSTS90013');
    expectRejected(validateLoginSrfPost(post(token().slice(0, 500)), TENANT, REQUEST, NOW), 'AADSTS90013');
  });

  it('AADSTS90013 when wresult is over the size bound', () => {
    const big = token({ parts: { extraAttributes: attribute('pad', 'urn:pad', 'x'.repeat(MAX_WRESULT_CHARS)) } });
    expectRejected(validateLoginSrfPost(post(big), TENANT, REQUEST, NOW), 'AADSTS90013');
  });

  it('refuses DOCTYPE and ENTITY payloads before parsing', () => {
    const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>';
    const xxe = '<!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>';
    for (const prolog of [laughs, xxe, '<!doctype x>']) {
      const body = token({ edit: (x) => x.replace('<t:TokenType>', '<t:Extra>&xxe;&lol2;</t:Extra><t:TokenType>') });
      const v = validateLoginSrfPost(post(prolog + body), TENANT, REQUEST, NOW);
      expectRejected(v, 'AADSTS90013');
      expect(v.errors[0]?.message).toMatch(/DOCTYPE\/ENTITY declarations are refused/);
      expect(v.user).toBeUndefined();
    }
    // An entity declaration smuggled in anywhere, even without a DOCTYPE keyword in front.
    const v = validateLoginSrfPost(post(token().replace('<t:Lifetime>', '<!ENTITY a "b"><t:Lifetime>')), TENANT, REQUEST, NOW);
    expect(v.errors[0]?.message).toMatch(/DOCTYPE\/ENTITY declarations are refused/);
  });
});

describe('Entra login.srf stand-in: the RSTR (§1.3, §11.5)', () => {
  it('rejects a RequestSecurityTokenResponseCollection', () => {
    const edit = (x: string): string => `<t:RequestSecurityTokenResponseCollection xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust">${x}</t:RequestSecurityTokenResponseCollection>`;
    expectRejected(check({ edit }), 'RSTR_COLLECTION');
  });

  it('rejects the WS-Trust 1.3 namespace', () => {
    expectRejected(check({ rstr: { trustNs: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512' } }), 'RSTR_NAMESPACE');
  });

  it('rejects a missing or malformed Lifetime', () => {
    expectRejected(check({ edit: (x) => x.replace(/<t:Lifetime>.*<\/t:Lifetime>/, '') }), 'RSTR_LIFETIME');
    expectRejected(check({ edit: (x) => x.replace(/<wsu:Expires[^>]*>[^<]*<\/wsu:Expires>/, '') }), 'RSTR_LIFETIME');
  });

  it('rejects an AppliesTo other than urn:federation:MicrosoftOnline', () => {
    expectRejected(check({ rstr: { appliesTo: 'https://login.microsoftonline.com/' } }), 'RSTR_APPLIES_TO');
  });

  it('rejects an AppliesTo that does not duplicate the Audience', () => {
    expectRejected(check({ parts: { audience: 'urn:federation:other' } }), 'RSTR_APPLIES_TO', 'AUDIENCE_INVALID');
  });

  it('rejects a wrong or missing TokenType', () => {
    expectRejected(check({ rstr: { tokenType: 'urn:oasis:names:tc:SAML:2.0:assertion' } }), 'RSTR_TOKEN_TYPE');
    expectRejected(check({ edit: (x) => x.replace(/<t:TokenType>[^<]*<\/t:TokenType>/, '') }), 'RSTR_TOKEN_TYPE');
  });

  it('rejects a wrong RequestType', () => {
    expectRejected(check({ rstr: { requestType: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue' } }), 'RSTR_REQUEST_TYPE');
  });

  it('rejects a wrong KeyType', () => {
    expectRejected(check({ rstr: { keyType: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer' } }), 'RSTR_KEY_TYPE');
  });

  it('rejects whitespace around the assertion inside RequestedSecurityToken', () => {
    expectRejected(check({ edit: (x) => x.replace('<t:RequestedSecurityToken>', '<t:RequestedSecurityToken>\n  ') }), 'RSTR_WHITESPACE');
    expectRejected(check({ edit: (x) => x.replace('</t:RequestedSecurityToken>', '\n</t:RequestedSecurityToken>') }), 'RSTR_WHITESPACE');
  });

  it('rejects a RequestedSecurityToken that holds no assertion, or two RequestedSecurityTokens', () => {
    expectRejected(check({ edit: (x) => x.replace(/<t:RequestedSecurityToken>.*<\/t:RequestedSecurityToken>/, '<t:RequestedSecurityToken></t:RequestedSecurityToken>') }), 'RSTR_TOKEN_COUNT');
    expectRejected(check({ edit: (x) => x.replace('<t:TokenType>', '<t:RequestedSecurityToken/><t:TokenType>') }), 'RSTR_REQUESTED_TOKEN');
  });

  it('rejects a SAML 2.0 assertion in RequestedSecurityToken', () => {
    const unsigned = (x: string): string => x.replaceAll('urn:oasis:names:tc:SAML:1.0:assertion', 'urn:oasis:names:tc:SAML:2.0:assertion');
    expectRejected(check({ unsigned }), 'RSTR_TOKEN_COUNT');
  });
});

describe('Entra login.srf stand-in: assertion header and issuer (§1.3, §1.4)', () => {
  it('rejects an assertion that is not MajorVersion 1 MinorVersion 1', () => {
    expectRejected(check({ parts: { minor: '0' } }), 'ASSERTION_VERSION');
    expectRejected(check({ parts: { major: '2' } }), 'ASSERTION_VERSION');
  });

  it('rejects an assertion without AssertionID', () => {
    expectRejected(check({ unsigned: (x) => x.replace(` AssertionID="${ASSERTION_ID}"`, '') }), 'ASSERTION_ID_MISSING');
  });

  it('rejects an assertion without Issuer', () => {
    expectRejected(check({ unsigned: (x) => x.replace(` Issuer="${CONTOSO_ISSUER}"`, '') }), 'ISSUER_MISSING');
  });

  it('rejects a missing or malformed IssueInstant', () => {
    expectRejected(check({ unsigned: (x) => x.replace(/ IssueInstant="[^"]*"/, '') }), 'ISSUE_INSTANT');
    expectRejected(check({ parts: { issueInstant: '2026-03-01 10:00:00' } }), 'ISSUE_INSTANT');
  });

  it('AADSTS50107 when the Issuer is no federated domain\'s issuerUri (exact string match)', () => {
    expectRejected(check({ parts: { issuer: 'http://evil.example/adfs/services/trust/' } }), 'AADSTS50107');
    expectRejected(check({ parts: { issuer: 'http://contoso.com/adfs/services/trust' } }), 'AADSTS50107');
    expectRejected(check({ parts: { issuer: 'HTTP://CONTOSO.COM/adfs/services/trust/' } }), 'AADSTS50107');
  });

  it('rejects a fabrikam.com user in a token with contoso\'s issuer', () => {
    const v = check({ parts: { nameId: CAROL.immutableId, immutableIdAttr: CAROL.immutableId, upn: CAROL.upn } });
    expectRejected(v, 'ISSUER_DOMAIN_MISMATCH');
    expect(codes(v)).not.toContain('AADSTS50008');
  });

  it('rejects a contoso user in a token with fabrikam\'s issuer and certificate', () => {
    expectRejected(check({ parts: { issuer: FABRIKAM_ISSUER }, sign: { keyPair: FABRIKAM } }), 'ISSUER_DOMAIN_MISMATCH');
  });
});

describe('Entra login.srf stand-in: the signature (§1.5)', () => {
  it('AADSTS50008 for an unsigned assertion', () => {
    expectRejected(check({ sign: false }), 'AADSTS50008');
  });

  it('AADSTS50008 for a token signed with a key the domain does not have, even with its own cert in KeyInfo', () => {
    expectRejected(check({ sign: { keyPair: ATTACKER } }), 'AADSTS50008');
  });

  it('AADSTS50008 for a token signed with another key but carrying the domain\'s certificate in KeyInfo', () => {
    expectRejected(check({ sign: { keyPair: ATTACKER, keyInfoCert: CONTOSO.certB64 } }), 'AADSTS50008');
  });

  it('AADSTS50008 when the signature is valid but KeyInfo carries another certificate', () => {
    expectRejected(check({ sign: { keyInfoCert: ATTACKER.certB64 } }), 'AADSTS50008');
  });

  it('AADSTS50008 for another domain\'s certificate (fabrikam\'s key on a contoso token)', () => {
    expectRejected(check({ sign: { keyPair: FABRIKAM } }), 'AADSTS50008');
  });

  it('AADSTS50008 when KeyInfo is missing', () => {
    expectRejected(check({ sign: { keyInfoCert: null } }), 'AADSTS50008');
  });

  it('AADSTS50008 when anything signed was changed afterwards', () => {
    expectRejected(check({ signed: (x) => x.replace(`>${ALICE.immutableId}<`, `>${BOB.immutableId}<`) }), 'AADSTS50008');
    expectRejected(check({ signed: (x) => x.replace(`>${ALICE.upn}<`, `>${BOB.upn}<`) }), 'AADSTS50008');
    expectRejected(check({ signed: (x) => x.replace(`NotOnOrAfter="${at(60)}"`, `NotOnOrAfter="${at(600)}"`) }), 'AADSTS50008');
  });

  it('AADSTS50008 when the Signature is not the last child of the assertion', () => {
    const signed = (x: string): string => {
      const s = signatureOf(x);
      return x.replace(s, '').replace('<saml:Conditions', `${s}<saml:Conditions`);
    };
    const v = check({ signed });
    expectRejected(v, 'AADSTS50008');
    expect(v.errors.find((e) => e.code === 'AADSTS50008')?.message).toMatch(/last child/);
  });

  it('AADSTS50008 for two Signatures', () => {
    expectRejected(check({ signed: (x) => { const s = signatureOf(x); return x.replace(s, s + s); } }), 'AADSTS50008');
  });

  it('AADSTS50008 when the Reference is not #AssertionID', () => {
    const v = check({ sign: { emptyUri: true } });
    expectRejected(v, 'AADSTS50008');
    expect(v.errors.find((e) => e.code === 'AADSTS50008')?.message).toMatch(/URI="#/);
  });

  it('AADSTS50008 for inclusive c14n, a c14n-only transform list, or RSA-SHA512', () => {
    expectRejected(check({ sign: { canonicalization: ALG.c14n } }), 'AADSTS50008');
    expectRejected(check({ sign: { transforms: [ALG.enveloped, ALG.c14n] } }), 'AADSTS50008');
    expectRejected(check({ sign: { signatureAlgorithm: ALG.rsaSha512 } }), 'AADSTS50008');
    expectRejected(check({ sign: { digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha512' } }), 'AADSTS50008');
  });

  it('rejects the https:// erratum form of the signature algorithm URIs', () => {
    const v = check({ signed: (x) => x.replace(ALG.rsaSha256, ALG.rsaSha256.replace('http://', 'https://')) });
    expectRejected(v, 'HTTPS_SCHEMA_URI', 'AADSTS50008');
    // With the ds namespace in https form there is no XML-DSig Signature at all.
    expectRejected(check({ signed: (x) => x.replace('xmlns="http://www.w3.org/2000/09/xmldsig#"', 'xmlns="https://www.w3.org/2000/09/xmldsig#"') }), 'HTTPS_SCHEMA_URI', 'AADSTS50008');
  });
});

describe('Entra login.srf stand-in: signature wrapping', () => {
  const forged = (id: string, issuer = CONTOSO_ISSUER, inner = ''): string =>
    assertionXml({ ...DEFAULT_PARTS, id, issuer, nameId: BOB.immutableId, immutableIdAttr: BOB.immutableId, upn: BOB.upn })
      .replace('</saml:Assertion>', `${inner}</saml:Assertion>`);

  it('rejects a second, unsigned assertion next to the signed one', () => {
    for (const place of ['before', 'after'] as const) {
      const v = check({ signed: (x) => (place === 'before' ? forged('_forged') + x : x + forged('_forged')) });
      expectRejected(v, 'RSTR_TOKEN_COUNT');
      expect(v.user).toBeUndefined();
    }
  });

  it('rejects a forged assertion with the same AssertionID and a copy of the signature, the signed one moved out', () => {
    const edit = (x: string): string => {
      const original = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(x)?.[0] ?? '';
      const evil = forged(ASSERTION_ID, CONTOSO_ISSUER, signatureOf(original));
      return x.replace(original, evil).replace('<t:TokenType>', `<t:Extra>${original}</t:Extra><t:TokenType>`);
    };
    const v = check({ edit });
    expectRejected(v, 'AADSTS50008');
    expect(v.user).toBeUndefined();
  });

  it('rejects a forged assertion with its own AssertionID, the signed one moved into it (Advice) or out of the RSTR token', () => {
    const inAdvice = (x: string): string => {
      const original = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(x)?.[0] ?? '';
      return x.replace(original, forged('_forged', CONTOSO_ISSUER, `<saml:Advice>${original}</saml:Advice>${signatureOf(original)}`));
    };
    const outside = (x: string): string => {
      const original = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(x)?.[0] ?? '';
      return x.replace(original, forged('_forged', CONTOSO_ISSUER, signatureOf(original)))
        .replace('</t:RequestSecurityTokenResponse>', `<t:Extra>${original}</t:Extra></t:RequestSecurityTokenResponse>`);
    };
    for (const edit of [inAdvice, outside]) {
      const v = check({ edit });
      expectRejected(v, 'AADSTS50008');
      expect(v.user).toBeUndefined();
    }
  });

  it('rejects an Issuer changed outside the signed node', () => {
    // On the assertion itself, after signing. One AD FS farm signing for both domains (so the
    // KeyInfo certificate is trusted for fabrikam too): the digest no longer matches.
    const oneFarm: EntraTenant = { ...TENANT, domains: TENANT.domains.map((d) => ({ ...d, signingCertificate: CONTOSO.certB64 })) };
    const v = check({ signed: (x) => x.replace(`Issuer="${CONTOSO_ISSUER}"`, `Issuer="${FABRIKAM_ISSUER}"`) }, {}, oneFarm);
    expectRejected(v, 'AADSTS50008');
    expect(v.errors[0]?.message).toMatch(/digest/);
    // On a forged wrapper whose signature points at the genuine assertion moved elsewhere.
    const edit = (x: string): string => {
      const original = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(x)?.[0] ?? '';
      const evil = assertionXml({ ...DEFAULT_PARTS, id: '_forged', issuer: FABRIKAM_ISSUER })
        .replace('</saml:Assertion>', `${signatureOf(original)}</saml:Assertion>`);
      return x.replace(original, evil).replace('<t:TokenType>', `<t:Extra>${original}</t:Extra><t:TokenType>`);
    };
    expectRejected(check({ edit }), 'AADSTS50008');
  });

  it('reads the signed value, so a comment injected into the NameIdentifier truncates nothing', () => {
    const cut = 8;
    const v = check({ signed: (x) => x.replace(`>${ALICE.immutableId}<`, `>${ALICE.immutableId.slice(0, cut)}<!---->${ALICE.immutableId.slice(cut)}<`) });
    expectAccepted(v);
    expect(v.user).toEqual(ALICE);
  });
});

describe('Entra login.srf stand-in: Conditions (§1.3)', () => {
  it('rejects missing Conditions, NotBefore or NotOnOrAfter', () => {
    expectRejected(check({ unsigned: (x) => x.replace(/<saml:Conditions.*<\/saml:Conditions>/, '') }), 'CONDITIONS_MISSING');
    expectRejected(check({ unsigned: (x) => x.replace(/ NotBefore="[^"]*"/, '') }), 'CONDITIONS_MISSING');
    expectRejected(check({ unsigned: (x) => x.replace(/ NotOnOrAfter="[^"]*"/, '') }), 'CONDITIONS_MISSING');
    expectRejected(check({ parts: { notOnOrAfter: '2026-03-01T11:00:00+01:00' } }), 'CONDITIONS_MISSING');
  });

  it('rejects an expired token (beyond 5 minutes of skew)', () => {
    expectRejected(check({ parts: { notBefore: at(-66), issueInstant: at(-66), authnInstant: at(-67), notOnOrAfter: at(-6) } }), 'TOKEN_EXPIRED');
  });

  it('rejects a token not yet valid (beyond 5 minutes of skew)', () => {
    expectRejected(check({ parts: { notBefore: at(6), notOnOrAfter: at(66) } }), 'TOKEN_NOT_YET_VALID');
  });

  it('rejects an absurd lifetime (over 24 h) and an inverted one', () => {
    expectRejected(check({ parts: { notOnOrAfter: at(24 * 60 + 1) } }), 'TOKEN_LIFETIME');
    expectRejected(check({ parts: { notBefore: at(3), notOnOrAfter: at(2) } }), 'TOKEN_LIFETIME');
  });

  it('rejects a wrong Audience, or more than one', () => {
    const rstr = { appliesTo: null }; // AppliesTo would also (rightly) differ from the Audience
    expectRejected(check({ parts: { audience: 'urn:microsoft:online' }, rstr }), 'AUDIENCE_INVALID');
    expectRejected(check({ parts: { audience: 'urn:federation:MicrosoftOnline</saml:Audience><saml:Audience>urn:federation:MicrosoftOnline' }, rstr }), 'AUDIENCE_INVALID');
    expectRejected(check({ unsigned: (x) => x.replace(/<saml:AudienceRestrictionCondition>.*<\/saml:AudienceRestrictionCondition>/, ''), rstr }), 'AUDIENCE_INVALID');
  });
});

describe('Entra login.srf stand-in: subject and user (§1.4, §7)', () => {
  it('rejects a NameIdentifier Format other than SAML 1.1 unspecified', () => {
    expectRejected(check({ parts: { nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress' } }), 'NAMEID_FORMAT');
  });

  it('rejects a ConfirmationMethod other than bearer', () => {
    expectRejected(check({ parts: { confirmation: 'urn:oasis:names:tc:SAML:1.0:cm:holder-of-key' } }), 'SUBJECT_CONFIRMATION');
  });

  it('rejects statements whose subjects differ', () => {
    const unsigned = (x: string): string => {
      const i = x.indexOf('<saml:AuthenticationStatement');
      return x.slice(0, i) + x.slice(i).replace(`>${ALICE.immutableId}<`, `>${BOB.immutableId}<`);
    };
    expectRejected(check({ unsigned }), 'SUBJECT_MISMATCH');
  });

  it('AADSTS51004 when no user has the ImmutableID (which is case-sensitive)', () => {
    const unknown = 'AAAAAAAAAAAAAAAAAAAAAA==';
    expectRejected(check({ parts: { nameId: unknown, immutableIdAttr: unknown } }), 'AADSTS51004');
    const lower = ALICE.immutableId.toLowerCase();
    const v = check({ parts: { nameId: lower, immutableIdAttr: lower } });
    expectRejected(v, 'AADSTS51004');
    expect(v.user).toBeUndefined();
  });

  it('rejects a missing AttributeStatement or AuthenticationStatement', () => {
    expectRejected(check({ unsigned: (x) => x.replace(/<saml:AttributeStatement>.*<\/saml:AttributeStatement>/, '') }), 'ATTRIBUTE_STATEMENT');
    expectRejected(check({ unsigned: (x) => x.replace(/<saml:AuthenticationStatement.*<\/saml:AuthenticationStatement>/, '') }), 'AUTHENTICATION_STATEMENT');
  });
});

describe('Entra login.srf stand-in: attributes (§1.3, §1.4, §6)', () => {
  it('rejects a missing UPN attribute, or one in the https namespace', () => {
    expectRejected(check({ unsigned: (x) => x.replace(/<saml:Attribute AttributeName="UPN".*?<\/saml:Attribute>/, '') }), 'UPN_MISSING');
    const v = check({ unsigned: (x) => x.replace('AttributeNamespace="http://schemas.xmlsoap.org/claims"', 'AttributeNamespace="https://schemas.xmlsoap.org/claims"') });
    expectRejected(v, 'HTTPS_SCHEMA_URI', 'UPN_MISSING');
  });

  it('rejects a UPN that is not the user\'s', () => {
    expectRejected(check({ parts: { upn: BOB.upn } }), 'UPN_MISMATCH');
  });

  it('rejects a missing ImmutableID attribute or one that differs from the NameIdentifier', () => {
    expectRejected(check({ unsigned: (x) => x.replace(/<saml:Attribute AttributeName="ImmutableID".*?<\/saml:Attribute>/, '') }), 'IMMUTABLEID_MISSING');
    expectRejected(check({ parts: { immutableIdAttr: BOB.immutableId } }), 'IMMUTABLEID_MISMATCH');
  });

  it('rejects two Attribute elements with the same name and namespace', () => {
    const extraAttributes =
      attribute('authnmethodsreferences', 'http://schemas.microsoft.com/claims', PASSWORD_PROTECTED) +
      attribute('authnmethodsreferences', 'http://schemas.microsoft.com/claims', 'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password');
    expectRejected(check({ parts: { extraAttributes } }), 'DUPLICATE_ATTRIBUTE');
    // Two UPN elements also make two UPN values, which is not the user's one UPN.
    expectRejected(check({ parts: { extraAttributes: attribute('UPN', 'http://schemas.xmlsoap.org/claims', ALICE.upn) } }), 'DUPLICATE_ATTRIBUTE', 'UPN_MISMATCH');
  });

  it('rejects an insidecorporatenetwork value other than "true" or "false"', () => {
    for (const value of ['True', 'yes', '1']) {
      expectRejected(check({ parts: { extraAttributes: attribute('insidecorporatenetwork', 'http://schemas.microsoft.com/ws/2012/01', value) } }), 'INSIDE_CORPNET_INVALID');
    }
    expectRejected(check({ parts: { extraAttributes: attribute('insidecorporatenetwork', 'http://schemas.microsoft.com/ws/2012/01', 'true', 'false') } }), 'INSIDE_CORPNET_INVALID');
  });

  it('rejects the https:// form of a claim namespace or value', () => {
    expectRejected(check({ parts: { extraAttributes: attribute('authnmethodsreferences', 'https://schemas.microsoft.com/claims', PASSWORD_PROTECTED) } }), 'HTTPS_SCHEMA_URI');
    expectRejected(check({ parts: { authnMethod: 'https://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password' } }), 'HTTPS_SCHEMA_URI');
  });
});

describe('Entra login.srf stand-in: AuthenticationStatement, freshness and MFA (§1.4, §6.1, §6.3)', () => {
  it('rejects a missing AuthenticationMethod', () => {
    expectRejected(check({ unsigned: (x) => x.replace(/ AuthenticationMethod="[^"]*"/, '') }), 'AUTHN_METHOD_MISSING');
  });

  it('rejects a missing, malformed or future AuthenticationInstant', () => {
    expectRejected(check({ unsigned: (x) => x.replace(/ AuthenticationInstant="[^"]*"/, '') }), 'AUTHN_INSTANT_INVALID');
    expectRejected(check({ parts: { authnInstant: 'yesterday' } }), 'AUTHN_INSTANT_INVALID');
    expectRejected(check({ parts: { authnInstant: at(10) } }), 'AUTHN_INSTANT_FUTURE');
  });

  it('rejects an old AuthenticationInstant when a fresh sign-in was demanded (wfresh=0 / prompt=login)', () => {
    const v = check({ parts: { authnInstant: at(-30) } }, { expectFreshAuthAfter: REQUEST.sentAt });
    expectRejected(v, 'AUTHN_NOT_FRESH');
  });

  it('reports "mfa claimed but not performed" wherever the claim is', () => {
    const variants: TokenOptions[] = [
      { parts: { authnMethod: MULTIPLEAUTHN } },
      { parts: { authnMethod: 'http://schemas.microsoft.com/claims/wiaormultiauthn' } },
      { parts: { extraAttributes: attribute('authenticationmethod', 'http://schemas.microsoft.com/ws/2008/06/identity/claims', MULTIPLEAUTHN) } },
      { parts: { extraAttributes: attribute('authnmethodsreferences', 'http://schemas.microsoft.com/claims', PASSWORD_PROTECTED, MULTIPLEAUTHN) } },
    ];
    for (const variant of variants) {
      const v = check(variant);
      expectRejected(v, 'MFA_CLAIMED_NOT_PERFORMED');
      expect(v.errors.find((e) => e.code === 'MFA_CLAIMED_NOT_PERFORMED')?.message).toBe('mfa claimed but not performed');
    }
    // Even when Entra ignores IdP MFA, a false claim is a fedgate bug.
    expectRejected(check(variants[0], {}, { ...TENANT, federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' }), 'MFA_CLAIMED_NOT_PERFORMED');
  });

  it('under enforceMfaByFederatedIdp, a demanded MFA that the token does not claim is rejected', () => {
    const enforce: EntraTenant = { ...TENANT, federatedIdpMfaBehavior: 'enforceMfaByFederatedIdp' };
    expectRejected(check({}, { expectMfa: true }, enforce), 'MFA_NOT_CLAIMED');
    // acceptIfMfaDoneByFederatedIdp: Entra does its own MFA; the token is accepted without the claim.
    const v = check({}, { expectMfa: true });
    expectAccepted(v);
    expect(v.claims?.mfa).toBe(false);
  });
});
