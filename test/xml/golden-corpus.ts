/**
 * Inputs for the golden test of the outbound writer (canonical-golden.test.ts): every kind of
 * document fedgate writes, with fixed IDs, times and the test signing key (RSA PKCS#1 v1.5 is
 * deterministic), over values that exercise escaping and namespace rendering. The expected bytes in
 * fixtures/canonical-golden.json were produced by the tree-walking serializer before the writer was
 * compiled into shapes; any change of output is a change of the tokens' bytes.
 */
import { encryptAssertion } from '../../src/protocols/saml/encrypt-assertion.js';
import { writeLogoutRequest, writeLogoutResponse } from '../../src/protocols/saml/logout-messages.js';
import { writeSamlMetadata } from '../../src/protocols/saml/idp-metadata.js';
import { writeSignedSaml2Assertion, type Saml2AssertionInput } from '../../src/protocols/saml/saml2-assertion.js';
import { writeSaml2Response, type Saml2ResponseInput } from '../../src/protocols/saml/saml2-response.js';
import { writeFederationMetadata } from '../../src/protocols/wsfed/federation-metadata.js';
import { writeRstr } from '../../src/protocols/wsfed/rstr.js';
import { writeSignedSaml11Assertion, type Saml11AssertionInput } from '../../src/protocols/wsfed/saml11-assertion.js';
import { writeIssueResponse } from '../../src/protocols/wstrust/rstr.js';
import { TRUST_13, TRUST_2005 } from '../../src/protocols/wstrust/trust-version.js';
import {
  element, fillSlot, namespace, serializeCanonical, serializeFragment, slot, type XmlElement,
} from '../../src/xml/canonical-xml.js';
import { signingKey } from './signature-oracles.js';

const key = signingKey.key;
const T0 = new Date('2026-03-04T05:06:07.089Z');
const T1 = new Date('2026-03-04T06:06:07.089Z');
const CERT = key.certificateBase64;

/** Every character class the escaping rules distinguish, in one value each. */
export const TRICKY = [
  'a & b && c; <script>alert("x")</script> ]]>',
  'tab\there newline\nthere carriage\rreturn\r\n quote " apostrophe \' gt >',
  'Ünïcødé — 日本語 Ελληνικά, astral 𝒜 😀 𐍈',
  '&amp; already escaped &#x41; &lt;',
];

const ENTRA_ATTRIBUTES: Saml11AssertionInput['attributes'] = [
  { name: 'UPN', namespace: 'http://schemas.xmlsoap.org/claims', values: ['alice@example.com'] },
  { name: 'ImmutableID', namespace: 'http://schemas.microsoft.com/LiveID/Federation/2008/05', values: ['cBxVeG+XQECCbDIdvNJ4fg=='] },
  { name: 'authnmethodsreferences', namespace: 'http://schemas.microsoft.com/claims', values: ['urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'] },
];

function saml11(overrides: Partial<Saml11AssertionInput> = {}): Saml11AssertionInput {
  return {
    assertionId: '_7c3e1f9a-0b2d-4e5f-8a9b-0c1d2e3f4a5b',
    issuer: 'http://example.com/adfs/services/trust/',
    issueInstant: T0, notBefore: T0, notOnOrAfter: T1,
    audience: 'urn:federation:MicrosoftOnline',
    nameIdentifier: { value: 'cBxVeG+XQECCbDIdvNJ4fg==', format: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified' },
    attributes: ENTRA_ATTRIBUTES,
    authenticationMethod: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
    authenticationInstant: T0,
    ...overrides,
  };
}

const TRICKY_SAML11 = saml11({
  issuer: `http://example.com/?a=1&b=${TRICKY[0]}`,
  audience: TRICKY[1],
  nameIdentifier: { value: TRICKY[2] as string, format: TRICKY[3] as string },
  attributes: [
    { name: TRICKY[0] as string, namespace: TRICKY[1] as string, values: TRICKY },
    { name: 'groups', namespace: 'http://schemas.xmlsoap.org/claims', values: ['a', 'b'] },
    { name: 'empty', namespace: 'http://schemas.xmlsoap.org/claims', values: [] },
    { name: 'groups', namespace: 'http://schemas.xmlsoap.org/claims', values: ['c', ''] },
  ],
  authenticationMethod: TRICKY[2],
});

function saml2(overrides: Partial<Saml2AssertionInput> = {}): Saml2AssertionInput {
  return {
    assertionId: '_1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    issuer: 'https://sts.example.com/adfs/services/trust',
    issueInstant: T0,
    nameId: { value: 'alice@example.com', format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' },
    subjectConfirmation: { recipient: 'https://login.microsoftonline.com/login.srf', notOnOrAfter: T1, inResponseTo: '_req-1' },
    notBefore: T0, notOnOrAfter: T1,
    audience: 'urn:federation:MicrosoftOnline',
    attributes: [
      { name: 'IDPEmail', values: ['alice@example.com'] },
      { name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', nameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri', friendlyName: 'UPN', values: ['alice@example.com'] },
    ],
    authnInstant: T0,
    sessionIndex: '_session-1',
    authnContextClassRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
    ...overrides,
  };
}

const TRICKY_SAML2 = saml2({
  issuer: TRICKY[0],
  nameId: { value: TRICKY[1] as string, format: TRICKY[2] as string, nameQualifier: TRICKY[3], spNameQualifier: 'sp & co' },
  subjectConfirmation: { recipient: 'https://sp.example/acs?x=1&y="2"', notOnOrAfter: T1 },
  attributes: [
    { name: TRICKY[1] as string, nameFormat: TRICKY[0], friendlyName: TRICKY[2], values: TRICKY },
    { name: 'multi', values: ['1', '2'] },
    { name: 'none', values: [] },
    { name: 'multi', values: ['3'] },
  ],
  sessionNotOnOrAfter: T1,
  authnContextClassRef: TRICKY[3],
});

const RESPONSE: Saml2ResponseInput = {
  id: '_9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', issueInstant: T0, issuer: 'https://sts.example.com/adfs/services/trust',
  destination: 'https://login.microsoftonline.com/login.srf', inResponseTo: '_req-1',
};

const A = namespace('a', 'urn:test:a');
const B = namespace('b', 'urn:test:b');
const DEFAULT = namespace('', 'urn:test:default');
const NONE = namespace('', '');
const XSI = namespace('xsi', 'http://www.w3.org/2001/XMLSchema-instance');

/** Trees that exercise the serializer's rules directly (default namespaces, xmlns="", qualified attributes, declare). */
function serializerTree(): XmlElement {
  return element(DEFAULT, 'root', { z: 'last', a: TRICKY[1], m: undefined }, [
    element(NONE, 'undeclares', {}, [element(DEFAULT, 'redeclares', {}, ['t'])]),
    element(A, 'q', { plain: 'p' }, [element(A, 'inner', {}, [TRICKY[0] as string])], {
      qualifiedAttributes: [{ ns: XSI, name: 'type', value: 'b:T' }, { ns: B, name: 'y', value: '2' }, { ns: B, name: 'x', value: TRICKY[2] as string }],
      declare: [B],
    }),
    element(B, 'b', {}, [element(A, 'a', {}, []), element(B, 'b', {}, [])]),
    slot('s1'),
    serializeFragment(element(A, 'frag', { k: 'v' }, [element(B, 'd')])),
    TRICKY[3] as string,
  ]);
}

/** Name → function producing the document's bytes. Async ones (encryption) are awaited. */
export function corpus(): Record<string, () => string | Promise<string>> {
  const a11 = writeSignedSaml11Assertion(saml11(), key, 'rsa-sha256');
  const signedSaml2 = writeSignedSaml2Assertion(saml2(), key, 'rsa-sha256');
  const issueResponse = (version: typeof TRUST_2005, relatesTo: string | undefined) => writeIssueResponse({
    version, token: { assertion: a11, issued: T0, expires: T1 }, appliesTo: 'urn:federation:MicrosoftOnline', relatesTo,
  }, T0);
  return {
    'saml11 sha256': () => a11,
    'saml11 sha1': () => writeSignedSaml11Assertion(saml11(), key, 'rsa-sha1'),
    'saml11 tricky values, merged multi-valued attributes': () => writeSignedSaml11Assertion(TRICKY_SAML11, key, 'rsa-sha256'),
    'saml11 no attributes': () => writeSignedSaml11Assertion(saml11({ attributes: [] }), key, 'rsa-sha1'),
    'saml11 only valueless attributes': () => writeSignedSaml11Assertion(saml11({ attributes: [{ name: 'x', namespace: 'y', values: [] }] }), key, 'rsa-sha256'),
    'wsfed rstr': () => writeRstr({ created: T0, expires: T1, appliesTo: 'urn:federation:MicrosoftOnline', assertion: a11 }),
    'wsfed rstr tricky appliesTo': () => writeRstr({ created: T0, expires: T1, appliesTo: TRICKY[0] as string, assertion: a11 }),
    'wstrust 2005 issue response': () => issueResponse(TRUST_2005, 'urn:uuid:0f0e0d0c-0b0a-4908-8706-050403020100'),
    'wstrust 1.3 issue response': () => issueResponse(TRUST_13, 'urn:uuid:0f0e0d0c-0b0a-4908-8706-050403020100'),
    'wstrust 1.3 issue response without RelatesTo': () => issueResponse(TRUST_13, undefined),
    'saml2 assertion sha256': () => signedSaml2,
    'saml2 assertion sha1, IdP-initiated, no attributes': () => writeSignedSaml2Assertion(saml2({ attributes: [], subjectConfirmation: { recipient: 'https://sp/acs', notOnOrAfter: T1 } }), key, 'rsa-sha1'),
    'saml2 assertion tricky values': () => writeSignedSaml2Assertion(TRICKY_SAML2, key, 'rsa-sha256'),
    'saml2 response': () => writeSaml2Response(RESPONSE, { signedAssertion: signedSaml2 }),
    'saml2 response signed': () => writeSaml2Response(RESPONSE, { signedAssertion: signedSaml2 }, { key, algorithm: 'rsa-sha256' }),
    'saml2 response signed sha1, IdP-initiated': () => writeSaml2Response({ ...RESPONSE, inResponseTo: undefined }, { signedAssertion: signedSaml2 }, { key, algorithm: 'rsa-sha1' }),
    'saml2 response encrypted': async () => writeSaml2Response(RESPONSE, { encryptedAssertion: await encryptAssertion(signedSaml2, CERT, 'aes256-gcm') }),
    'saml2 response encrypted, signed': async () => writeSaml2Response(RESPONSE, { encryptedAssertion: await encryptAssertion(signedSaml2, CERT, 'aes128-cbc') }, { key, algorithm: 'rsa-sha256' }),
    'saml2 error response': () => writeSaml2Response({ ...RESPONSE, status: { code: 'urn:oasis:names:tc:SAML:2.0:status:Requester' } }, {}, undefined),
    'saml2 error response, signed, tricky message': () => writeSaml2Response(
      { ...RESPONSE, status: { code: 'urn:oasis:names:tc:SAML:2.0:status:Responder', subCode: 'urn:oasis:names:tc:SAML:2.0:status:NoPassive', message: TRICKY[1] } },
      {}, { key, algorithm: 'rsa-sha256' }),
    'saml2 logout request signed': () => writeLogoutRequest({
      id: '_lr1', issueInstant: T0, issuer: 'https://sts/', destination: 'https://sp/slo', nameId: TRICKY_SAML2.nameId,
      sessionIndexes: ['_s1', '_s2'], notOnOrAfter: T1, reason: 'urn:oasis:names:tc:SAML:2.0:logout:user',
    }, { key, algorithm: 'rsa-sha256' }),
    'saml2 logout response': () => writeLogoutResponse({ id: '_lo1', issueInstant: T0, issuer: 'https://sts/', destination: 'https://sp/slo', inResponseTo: '_lr1' }),
    'wsfed metadata (inclusive prefix fed, xsi:type)': () => writeFederationMetadata({
      entityId: 'http://example.com/adfs/services/trust', id: '_md1', validUntil: T1, cacheDuration: 'PT1H', displayName: 'Example & "Co"',
      signingCertificates: [CERT, CERT], passiveRequestorEndpoint: 'https://sts/adfs/ls/', securityTokenServiceEndpoint: 'https://sts/adfs/services/trust/2005/usernamemixed',
      metadataExchangeEndpoint: 'https://sts/adfs/services/trust/mex', claimTypes: [{ uri: 'http://schemas.xmlsoap.org/claims/UPN', displayName: 'UPN', description: TRICKY[0] as string }],
      samlIdp: { singleSignOnUrl: 'https://sts/adfs/ls/', singleLogoutUrl: 'https://sts/adfs/ls/', attributes: [{ name: 'urn:x', friendlyName: 'X' }] },
    }, key),
    'saml metadata sha1': () => writeSamlMetadata({
      entityId: 'https://sts/', id: '_md2', signatureAlgorithm: 'rsa-sha1', signingCertificates: [CERT],
      singleSignOnUrl: 'https://sts/sso', singleLogoutUrl: 'https://sts/slo', attributes: [],
    }, key),
    'serializer rules, slot filled': () => {
      const doc = serializeCanonical(serializerTree(), { inclusivePrefixes: ['b'] });
      return fillSlot(doc, 's1', serializeFragment(element(B, 'filled', {}, [element(A, 'x')])));
    },
    'serializer fragment lookups': () => JSON.stringify(serializeFragment(element(A, 'f', {}, [
      element(B, 'g', {}, [], { qualifiedAttributes: [{ ns: XSI, name: 'nil', value: 'true' }] }), element(DEFAULT, 'h', {}, [element(NONE, 'i')]),
    ]))),
  };
}

/** Inputs the writer must refuse with XmlCharacterError (controls, U+FFFE/U+FFFF, lone surrogates). */
export const REFUSED_CHARACTERS = ['\u0000', '\u0001', '\u0008', '\u000B', '\u000C', '\u001F', '\uFFFE', '\uFFFF', '\uD800', '\uDFFF', 'x\uDC00y', '\uDBFF'];

export function refusedWriters(bad: string): Record<string, () => unknown> {
  return {
    'saml11 attribute value': () => writeSignedSaml11Assertion(saml11({ attributes: [{ name: 'n', namespace: 'ns', values: [`a${bad}b`] }] }), key, 'rsa-sha256'),
    'saml11 attribute name (an XML attribute)': () => writeSignedSaml11Assertion(saml11({ attributes: [{ name: `a${bad}`, namespace: 'ns', values: ['v'] }] }), key, 'rsa-sha256'),
    'saml11 name identifier': () => writeSignedSaml11Assertion(saml11({ nameIdentifier: { value: `${bad}`, format: 'f' } }), key, 'rsa-sha256'),
    'saml2 attribute value': () => writeSignedSaml2Assertion(saml2({ attributes: [{ name: 'n', values: [`${bad}z`] }] }), key, 'rsa-sha256'),
    'saml2 recipient (an XML attribute)': () => writeSignedSaml2Assertion(saml2({ subjectConfirmation: { recipient: `r${bad}`, notOnOrAfter: T1 } }), key, 'rsa-sha256'),
    'rstr appliesTo': () => writeRstr({ created: T0, expires: T1, appliesTo: `x${bad}`, assertion: writeSignedSaml11Assertion(saml11(), key, 'rsa-sha256') }),
    'response status message': () => writeSaml2Response({ ...RESPONSE, status: { code: 'urn:oasis:names:tc:SAML:2.0:status:Requester', message: bad } }, {}),
    'serializer text': () => serializeCanonical(element(A, 'e', {}, [bad])),
    'serializer attribute': () => serializeCanonical(element(A, 'e', { v: bad })),
  };
}
