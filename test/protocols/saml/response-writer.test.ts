import { describe, expect, it } from 'vitest';
import type { Element } from '@xmldom/xmldom';
import { SamlStatusError, ValidateInResponseTo } from '@node-saml/node-saml';
import { encryptAssertion, type AssertionEncryption } from '../../../src/protocols/saml/encrypt-assertion.js';
import { SAML_ATTRNAME_FORMAT, SAML_AUTHN_CONTEXT, SAML_NAMEID_FORMAT, SAML_NS, SAML_STATUS } from '../../../src/protocols/saml/saml-constants.js';
import { writeSignedSaml2Assertion, type Saml2AssertionInput } from '../../../src/protocols/saml/saml2-assertion.js';
import { writeSaml2Response, type Saml2ResponseBody } from '../../../src/protocols/saml/saml2-response.js';
import type { SignatureAlgorithm } from '../../../src/xml/enveloped-signature.js';
import { DSIG, firstElement, otherKey, parseXml, signingKey, xmlCryptoCanonical, xmlCryptoVerify } from '../../xml/signature-oracles.js';
import {
  base64, childNames, ENTRA, entraAssertionInput, IDP_ISSUER, IMMUTABLE_ID, nodeSamlSp, nodeSamlSpExpecting, REQUEST_ID, responseInput, SP, SP_CERT_BASE64, SP_PRIVATE_KEY_PEM,
  spAssertionInput, xmlsec1Decrypt, xmlsec1VerifySaml2,
} from './writer-fixtures.js';

const A = SAML_NS.assertion;
const P = SAML_NS.protocol;
const key = signingKey.key;

function assertion(input: Saml2AssertionInput = spAssertionInput(), algorithm: SignatureAlgorithm = 'rsa-sha256'): string {
  return writeSignedSaml2Assertion(input, key, algorithm);
}

function response(body: Saml2ResponseBody, signResponse?: SignatureAlgorithm, overrides = {}): string {
  return writeSaml2Response(responseInput(new Date(), overrides), body, signResponse === undefined ? undefined : { key, algorithm: signResponse });
}


function expectXmlsec1(xml: string, signed: Parameters<typeof xmlsec1VerifySaml2>[1]): void {
  const result = xmlsec1VerifySaml2(xml, signed);
  expect(result.ok, result.output).toBe(true);
}

/** The bytes are their own exclusive canonical form (so every digest over them is over what was sent). */
function expectCanonical(xml: string): void {
  expect(xmlCryptoCanonical(parseXml(xml).documentElement as Element)).toBe(xml);
  expect(xml).not.toMatch(/>\s+</);
}

describe('writeSignedSaml2Assertion', () => {
  for (const algorithm of ['rsa-sha256', 'rsa-sha1'] as const) {
    it(`${algorithm}: xmlsec1 and xml-crypto verify it, over the whole assertion, and it is canonical`, () => {
      const xml = assertion(spAssertionInput(), algorithm);
      expectXmlsec1(xml, 'Assertion');
      // xml-crypto resolves ID by default, as the metadata kind configures it.
      const checked = xmlCryptoVerify(xml, 'metadata');
      expect(checked.valid, checked.error).toBe(true);
      expect(checked.signedReferences).toHaveLength(1);
      expectCanonical(xml);
    });
  }

  it('a tampered copy is rejected by xmlsec1', () => {
    const xml = assertion();
    expect(xmlsec1VerifySaml2(xml.replace('>alice@example.com<', '>mallory@example.com<'), 'Assertion').ok).toBe(false);
    expect(xmlsec1VerifySaml2(xml.replace(SP.entityId, 'https://evil.example'), 'Assertion').ok).toBe(false);
    expect(xmlsec1VerifySaml2(xml, 'Assertion', otherKey.certPem).ok).toBe(false);
  });

  it('merges same-name attributes into one Attribute, drops empty ones, writes no AttributeStatement without any', () => {
    const doc = parseXml(assertion(spAssertionInput(new Date(), {
      attributes: [
        { name: 'groups', nameFormat: SAML_ATTRNAME_FORMAT.basic, values: ['g1'] },
        { name: 'empty', values: [] },
        { name: 'mail', friendlyName: 'mail', values: ['a@example.com'] },
        { name: 'groups', nameFormat: SAML_ATTRNAME_FORMAT.basic, values: ['g2', 'g3'] },
      ],
    })));
    const attributes = doc.getElementsByTagNameNS(A, 'Attribute');
    const read = Array.from({ length: attributes.length }, (_, i) => {
      const a = attributes.item(i)!;
      const values = a.getElementsByTagNameNS(A, 'AttributeValue');
      return [a.getAttribute('Name'), a.getAttribute('NameFormat'), a.getAttribute('FriendlyName'), Array.from({ length: values.length }, (_x, j) => values.item(j)!.textContent)];
    });
    expect(read).toEqual([['groups', SAML_ATTRNAME_FORMAT.basic, null, ['g1', 'g2', 'g3']], ['mail', null, 'mail', ['a@example.com']]]);

    const none = assertion(spAssertionInput(new Date(), { attributes: [{ name: 'empty', values: [] }] }));
    expect(none).not.toContain('AttributeStatement');
    expectXmlsec1(none, 'Assertion');
  });

  it('writes the optional pieces only when given: InResponseTo, SessionNotOnOrAfter, NameQualifiers', () => {
    const now = new Date('2030-01-02T03:04:05.000Z');
    const bare = parseXml(assertion(spAssertionInput(now, { subjectConfirmation: { recipient: SP.acs, notOnOrAfter: now } })));
    expect(firstElement(bare, A, 'SubjectConfirmationData').hasAttribute('InResponseTo')).toBe(false);
    expect(firstElement(bare, A, 'AuthnStatement').hasAttribute('SessionNotOnOrAfter')).toBe(false);
    expect(firstElement(bare, A, 'NameID').hasAttribute('SPNameQualifier')).toBe(false);

    const full = parseXml(assertion(spAssertionInput(now, {
      sessionNotOnOrAfter: new Date('2030-01-02T11:04:05.000Z'),
      nameId: { value: 'x', format: SAML_NAMEID_FORMAT.transient, nameQualifier: IDP_ISSUER, spNameQualifier: SP.entityId },
    })));
    expect(firstElement(full, A, 'AuthnStatement').getAttribute('SessionNotOnOrAfter')).toBe('2030-01-02T11:04:05.000Z');
    expect(firstElement(full, A, 'NameID').getAttribute('NameQualifier')).toBe(IDP_ISSUER);
    expect(firstElement(full, A, 'NameID').getAttribute('SPNameQualifier')).toBe(SP.entityId);
  });
});

describe('the Entra response (entra-federation.md §2.3/§2.4)', () => {
  const now = new Date('2024-03-12T14:00:19.000Z');
  const signedAssertion = writeSignedSaml2Assertion(entraAssertionInput(now), key, 'rsa-sha256');
  const xml = writeSaml2Response(responseInput(now, { destination: ENTRA.acs }), { signedAssertion });
  const doc = parseXml(xml);
  const root = doc.documentElement!;

  it('Response: Destination, Consent unspecified, InResponseTo; Issuer (assertion namespace, default prefix), Status Success, Assertion', () => {
    expect([root.namespaceURI, root.localName, root.getAttribute('Version')]).toEqual([P, 'Response', '2.0']);
    expect(root.getAttribute('Destination')).toBe(ENTRA.acs);
    expect(root.getAttribute('Consent')).toBe('urn:oasis:names:tc:SAML:2.0:consent:unspecified');
    expect(root.getAttribute('InResponseTo')).toBe(REQUEST_ID);
    expect(root.getAttribute('IssueInstant')).toBe('2024-03-12T14:00:19.000Z');
    expect(childNames(root)).toEqual(['Issuer', 'Status', 'Assertion']);
    const issuer = root.firstChild as Element;
    expect([issuer.namespaceURI, issuer.prefix, issuer.textContent]).toEqual([A, null, IDP_ISSUER]);
    expect(xml).toContain(`<Issuer xmlns="${A}">${IDP_ISSUER}</Issuer>`);
    expect(firstElement(doc, P, 'StatusCode').getAttribute('Value')).toBe(SAML_STATUS.success);
    // The assertion is embedded byte for byte.
    expect(xml).toContain(`</samlp:Status>${signedAssertion}</samlp:Response>`);
  });

  it('Assertion: Issuer, Signature right after it, Subject, Conditions, AttributeStatement, AuthnStatement', () => {
    const a = firstElement(doc, A, 'Assertion');
    expect(childNames(a)).toEqual(['Issuer', 'Signature', 'Subject', 'Conditions', 'AttributeStatement', 'AuthnStatement']);
    expect((a.childNodes.item(1) as Element).namespaceURI).toBe(DSIG);
    expect(a.getAttribute('Version')).toBe('2.0');
    expect(firstElement(a, A, 'Issuer').textContent).toBe(IDP_ISSUER);
  });

  it('Subject: persistent NameID = ImmutableID; bearer confirmation with InResponseTo, NotOnOrAfter +5 min, Recipient login.srf', () => {
    const nameId = firstElement(doc, A, 'NameID');
    expect([nameId.getAttribute('Format'), nameId.textContent]).toEqual([SAML_NAMEID_FORMAT.persistent, IMMUTABLE_ID]);
    expect(firstElement(doc, A, 'SubjectConfirmation').getAttribute('Method')).toBe('urn:oasis:names:tc:SAML:2.0:cm:bearer');
    const data = firstElement(doc, A, 'SubjectConfirmationData');
    expect([data.getAttribute('InResponseTo'), data.getAttribute('NotOnOrAfter'), data.getAttribute('Recipient')])
      .toEqual([REQUEST_ID, '2024-03-12T14:05:19.000Z', ENTRA.acs]);
  });

  it('Conditions with the Audience urn:federation:MicrosoftOnline; IDPEmail without NameFormat; AuthnStatement with PasswordProtectedTransport', () => {
    const conditions = firstElement(doc, A, 'Conditions');
    expect([conditions.getAttribute('NotBefore'), conditions.getAttribute('NotOnOrAfter')]).toEqual(['2024-03-12T14:00:19.000Z', '2024-03-12T15:00:19.000Z']);
    expect(childNames(conditions)).toEqual(['AudienceRestriction']);
    expect(firstElement(conditions, A, 'Audience').textContent).toBe(ENTRA.entityId);
    const attribute = firstElement(doc, A, 'Attribute');
    expect(attribute.getAttribute('Name')).toBe('IDPEmail');
    expect(attribute.hasAttribute('NameFormat')).toBe(false);
    expect(firstElement(attribute, A, 'AttributeValue').textContent).toBe('alice@example.com');
    expect(firstElement(attribute, A, 'AttributeValue').hasAttributeNS(SAML_NS.xsi, 'type')).toBe(false);
    const authn = firstElement(doc, A, 'AuthnStatement');
    expect(authn.getAttribute('AuthnInstant')).toBe('2024-03-12T14:00:17.000Z');
    expect(authn.getAttribute('SessionIndex')).toBe(entraAssertionInput(now).sessionIndex);
    expect(firstElement(authn, A, 'AuthnContextClassRef').textContent).toBe(SAML_AUTHN_CONTEXT.passwordProtectedTransport);
  });

  it('no whitespace between elements, canonical as a whole, http:// algorithm URIs, and xmlsec1 verifies the assertion in place', () => {
    expectCanonical(xml);
    const algorithms = Array.from(xml.matchAll(/Algorithm="([^"]+)"/g), (m) => m[1]);
    expect(algorithms.length).toBeGreaterThan(0);
    for (const uri of algorithms) expect(uri).toMatch(/^http:\/\//);
    expectXmlsec1(xml, 'Assertion');
  });
});

describe('writeSaml2Response: signatures', () => {
  for (const algorithm of ['rsa-sha256', 'rsa-sha1'] as const) {
    it(`${algorithm}: a signed Response carrying a signed assertion: both signatures verify with xmlsec1, the Response's right after its Issuer`, () => {
      const signedAssertion = assertion(spAssertionInput(), algorithm);
      const xml = response({ signedAssertion }, algorithm);
      expectXmlsec1(xml, 'Response');
      expectXmlsec1(xml, 'Assertion');
      expectCanonical(xml);
      expect(childNames(parseXml(xml).documentElement!)).toEqual(['Issuer', 'Signature', 'Status', 'Assertion']);
      // The assertion's canonical form in place is the standalone assertion: its signature holds wherever it goes.
      expect(xmlCryptoCanonical(firstElement(parseXml(xml), A, 'Assertion'))).toBe(signedAssertion);
    });
  }

  it('the Response signature covers the embedded assertion: changing it breaks the Response signature', () => {
    const xml = response({ signedAssertion: assertion() }, 'rsa-sha256');
    const tampered = xml.replace('<saml:AttributeValue>staff<', '<saml:AttributeValue>root<');
    expect(tampered).not.toBe(xml);
    expect(xmlsec1VerifySaml2(tampered, 'Response').ok).toBe(false);
    expect(xmlsec1VerifySaml2(xml.replace(`Destination="${SP.acs}"`, 'Destination="https://evil.example/acs"'), 'Response').ok).toBe(false);
  });

  it('refuses a Success without an assertion, an error with one, and two assertions', async () => {
    const signedAssertion = assertion();
    expect(() => response({})).toThrow(/Success/);
    expect(() => response({ signedAssertion }, undefined, { status: { code: SAML_STATUS.responder } })).toThrow(/error/);
    const encryptedAssertion = await encryptAssertion(signedAssertion, SP_CERT_BASE64, 'aes256-gcm');
    expect(() => response({ signedAssertion, encryptedAssertion })).toThrow(/one assertion/);
    expect(() => response({ signedAssertion: signedAssertion.replace('<ds:Signature ', '<ds:Sig ') })).toThrow(/writeSignedSaml2Assertion/);
  });
});

describe('status (error) responses', () => {
  const status = { code: SAML_STATUS.responder, subCode: SAML_STATUS.noPassive, message: 'No session & no <prompt> allowed' };

  it('carry Status with the second-level code and the message, no assertion; unsigned by default', () => {
    const xml = response({}, undefined, { status });
    const doc = parseXml(xml);
    expect(childNames(doc.documentElement!)).toEqual(['Issuer', 'Status']);
    const top = firstElement(doc, P, 'StatusCode');
    expect(top.getAttribute('Value')).toBe(SAML_STATUS.responder);
    expect(firstElement(top, P, 'StatusCode').getAttribute('Value')).toBe(SAML_STATUS.noPassive);
    expect(firstElement(doc, P, 'StatusMessage').textContent).toBe(status.message);
    expect(doc.getElementsByTagNameNS(DSIG, 'Signature').length).toBe(0);
    expectCanonical(xml);
  });

  it('signed when asked (sp.signResponse): xmlsec1 verifies it; node-saml checks the signature and reads the status', async () => {
    const xml = response({}, 'rsa-sha256', { status });
    expectXmlsec1(xml, 'Response');
    const sp = nodeSamlSp({ wantAuthnResponseSigned: true });
    // node-saml treats a NoPassive Response as "not signed in" only when its signature verifies.
    expect(await sp.validatePostResponseAsync({ SAMLResponse: base64(xml) })).toEqual({ profile: null, loggedOut: false });
    await expect(sp.validatePostResponseAsync({ SAMLResponse: base64(response({}, undefined, { status })) })).rejects.toThrow(/signature/i);

    const failed = response({}, 'rsa-sha256', { status: { code: SAML_STATUS.responder, subCode: SAML_STATUS.authnFailed } });
    const error = await sp.validatePostResponseAsync({ SAMLResponse: base64(failed) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SamlStatusError);
    expect((error as Error).message).toBe('SAML provider returned Responder error: AuthnFailed');
  });
});

describe('node-saml as the service provider', () => {
  async function profileOf(xml: string, options: Parameters<typeof nodeSamlSp>[0] = {}) {
    const result = await nodeSamlSp(options).validatePostResponseAsync({ SAMLResponse: base64(xml) });
    expect(result.loggedOut).toBe(false);
    return result.profile!;
  }

  function expectAlice(profile: Awaited<ReturnType<typeof profileOf>>): void {
    expect(profile.nameID).toBe('alice@example.com');
    expect(profile.nameIDFormat).toBe(SAML_NAMEID_FORMAT.emailAddress);
    expect(profile.sessionIndex).toBe(spAssertionInput().sessionIndex);
    expect(profile.issuer).toBe(IDP_ISSUER);
    expect(profile['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn']).toBe('alice@example.com');
    expect(profile['groups']).toEqual(['staff', 'admins']);
  }

  it('accepts a Response with a signed assertion (unsigned Response)', async () => {
    expectAlice(await profileOf(response({ signedAssertion: assertion() })));
  });

  it('accepts a signed Response with a signed assertion, when it wants both signed (SHA-256 and SHA-1)', async () => {
    for (const algorithm of ['rsa-sha256', 'rsa-sha1'] as const) {
      expectAlice(await profileOf(response({ signedAssertion: assertion(spAssertionInput(), algorithm) }, algorithm), { wantAuthnResponseSigned: true }));
    }
  });

  it('refuses an unsigned Response when it wants it signed', async () => {
    await expect(nodeSamlSp({ wantAuthnResponseSigned: true }).validatePostResponseAsync({ SAMLResponse: base64(response({ signedAssertion: assertion() })) }))
      .rejects.toThrow();
  });

  it('InResponseTo: accepted for the request it sent, refused for another; IdP-initiated (none) accepted with ifPresent', async () => {
    const xml = response({ signedAssertion: assertion() });
    const result = await (await nodeSamlSpExpecting(REQUEST_ID)).validatePostResponseAsync({ SAMLResponse: base64(xml) });
    expect(result.profile?.inResponseTo).toBe(REQUEST_ID);
    await expect((await nodeSamlSpExpecting('_another-request')).validatePostResponseAsync({ SAMLResponse: base64(xml) })).rejects.toThrow(/InResponseTo/);

    const now = new Date();
    const idpInitiated = writeSaml2Response(responseInput(now, { inResponseTo: undefined }), {
      signedAssertion: assertion(spAssertionInput(now, { subjectConfirmation: { recipient: SP.acs, notOnOrAfter: new Date(now.getTime() + 300_000) } })),
    });
    expect(idpInitiated).not.toContain('InResponseTo');
    expectAlice(await profileOf(idpInitiated, { validateInResponseTo: ValidateInResponseTo.ifPresent }));
  });

  it('refuses an assertion for another audience, and a tampered one', async () => {
    await expect(nodeSamlSp({ audience: 'https://other-sp.example' }).validatePostResponseAsync({ SAMLResponse: base64(response({ signedAssertion: assertion() })) }))
      .rejects.toThrow(/audience/i);
    const tampered = response({ signedAssertion: assertion().replace('>staff<', '>root<') });
    await expect(nodeSamlSp().validatePostResponseAsync({ SAMLResponse: base64(tampered) })).rejects.toThrow();
  });

  for (const algorithm of ['aes256-gcm', 'aes256-cbc', 'aes128-cbc'] as const satisfies readonly AssertionEncryption[]) {
    it(`decrypts an ${algorithm} EncryptedAssertion (unsigned and signed Response)`, async () => {
      const encryptedAssertion = await encryptAssertion(assertion(), SP_CERT_BASE64, algorithm);
      const decryptionPvk = SP_PRIVATE_KEY_PEM;
      expectAlice(await profileOf(response({ encryptedAssertion }), { decryptionPvk }));
      expectAlice(await profileOf(response({ encryptedAssertion }, 'rsa-sha256'), { decryptionPvk, wantAuthnResponseSigned: true }));
    });
  }

  it('attribute values with <, &, ", quotes and unicode round-trip', async () => {
    const tricky = ['<b>bold</b> & "quoted" \'single\'', 'Ünïcødé — 日本語 😀', 'a]]>b', 'tab\tnew\nline'];
    const xml = response({ signedAssertion: assertion(spAssertionInput(new Date(), { attributes: [{ name: 'tricky', values: tricky }] })) }, 'rsa-sha256');
    expectXmlsec1(xml, 'Response');
    expectXmlsec1(xml, 'Assertion');
    expect(xml).not.toContain('<b>');
    const profile = await profileOf(xml, { wantAuthnResponseSigned: true });
    expect(profile['tricky']).toEqual(tricky);
  });
});

describe('encryptAssertion', () => {
  it('AES-256-GCM by default, RSA-OAEP key transport, the SP certificate named; canonical; xmlsec1 decrypts it to the signed assertion', async () => {
    const signedAssertion = assertion();
    const encrypted = await encryptAssertion(signedAssertion, SP_CERT_BASE64, 'aes256-gcm');
    expectCanonical(encrypted);
    const doc = parseXml(encrypted);
    expect([doc.documentElement!.namespaceURI, doc.documentElement!.localName]).toEqual([A, 'EncryptedAssertion']);
    const methods = doc.getElementsByTagNameNS(SAML_NS.xmlenc, 'EncryptionMethod');
    expect([methods.item(0)!.getAttribute('Algorithm'), methods.item(1)!.getAttribute('Algorithm')])
      .toEqual(['http://www.w3.org/2009/xmlenc11#aes256-gcm', 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p']);
    expect(firstElement(doc, DSIG, 'X509Certificate').textContent).toBe(SP_CERT_BASE64);
    expect(encrypted).not.toContain('alice');

    const xml = response({ encryptedAssertion: encrypted }, 'rsa-sha256');
    expectXmlsec1(xml, 'Response');
    expectCanonical(xml);
    const decrypted = xmlsec1Decrypt(xml);
    expect(decrypted.ok, decrypted.output).toBe(true);
    // xmlsec1 writes the document back with libxml2 (self-closing tags): compare canonical forms.
    const clear = parseXml(decrypted.output.replace(/^<\?xml[^>]*>\s*/, ''));
    expect(xmlCryptoCanonical(firstElement(clear, A, 'Assertion'))).toBe(signedAssertion);
    expectXmlsec1(decrypted.output, 'Assertion');
  });

  it('each encryption uses a fresh key (two encryptions differ)', async () => {
    const signedAssertion = assertion();
    expect(await encryptAssertion(signedAssertion, SP_CERT_BASE64, 'aes256-gcm')).not.toBe(await encryptAssertion(signedAssertion, SP_CERT_BASE64, 'aes256-gcm'));
  });
});
