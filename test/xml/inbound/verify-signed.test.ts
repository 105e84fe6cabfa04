import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { parseXml } from '../../../src/xml/parse-xml.js';
import {
  DEFAULT_DIGEST_ALGORITHMS, DEFAULT_SIGNATURE_ALGORITHMS, verifySignedElement, XMLDSIG_ALGORITHMS,
  type VerifiedElement, type VerifySignedOptions, type XmlRejectionReason,
} from '../../../src/xml/verify-signed.js';
import { DSIG, otherKey, signingKey } from '../signature-oracles.js';
import { rejectionOf } from './rejection.js';
import {
  ASSERTION_ID, AUTHN_REQUEST_ID, clone, dom, EXC_C14N, evilAssertion, first, ownSignature, RESPONSE_ID, responseTemplate,
  responseWithSignedAssertion, SAML, SAMLP, sign, signedAuthnRequest, signedResponse, text, withoutOwnSignature,
} from './signed-samples.js';

const AUTHN_REQUEST = { ns: SAMLP, localName: 'AuthnRequest' };
const RESPONSE = { ns: SAMLP, localName: 'Response' };
const ASSERTION = { ns: SAML, localName: 'Assertion' };

const BASE: VerifySignedOptions = {
  idAttribute: 'ID',
  trustedCertificates: [signingKey.certPem],
  allowedSignatureAlgorithms: DEFAULT_SIGNATURE_ALGORITHMS,
  allowedDigestAlgorithms: DEFAULT_DIGEST_ALGORITHMS,
};

/** 'first-assertion': the first saml:Assertion directly inside the root, as a SAML SP picks it. */
type Target = 'root' | 'first-assertion';

function responseAssertion(doc: Document): Element {
  for (let n = doc.documentElement?.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === SAML && (n as Element).localName === 'Assertion') return n as Element;
  }
  throw new Error('no Assertion child');
}

function verify(xml: string, options: Partial<VerifySignedOptions> = {}, target: Target = 'root'): VerifiedElement {
  const doc = parseXml(xml);
  const element = target === 'first-assertion' ? responseAssertion(doc) : undefined;
  return verifySignedElement(doc, { ...BASE, ...(element ? { element } : {}), ...options });
}

function reasonOf(xml: string, options: Partial<VerifySignedOptions> = {}, target: Target = 'root'): XmlRejectionReason | 'accepted' {
  return rejectionOf(() => verify(xml, options, target));
}

function textOf(e: Element, ns: string, localName: string): string {
  return first(e, ns, localName).textContent ?? '';
}

function hasOwnSignature(e: Element): boolean {
  try {
    ownSignature(e);
    return true;
  } catch {
    return false;
  }
}

describe('verifySignedElement: genuine documents', () => {
  it('a signed AuthnRequest -> the signed element, re-parsed from the canonical bytes, without its Signature', () => {
    const result = verify(signedAuthnRequest(), { expectedRootNames: [AUTHN_REQUEST] });
    expect(result.element.localName).toBe('AuthnRequest');
    expect(result.id).toBe(AUTHN_REQUEST_ID);
    expect(textOf(result.element, SAML, 'Issuer')).toBe('https://sp.example.test/metadata');
    expect(hasOwnSignature(result.element)).toBe(false);
    expect(result.certificateIndex).toBe(0);
    expect(result.certificate.fingerprint256).toBe(signingKey.key.certificate.fingerprint256);
    expect(result.signatureAlgorithm).toBe(XMLDSIG_ALGORITHMS.rsaSha256);
    expect(result.digestAlgorithm).toBe(XMLDSIG_ALGORITHMS.sha256);
    // The returned node is not from the posted document.
    expect(result.element.ownerDocument).not.toBe(parseXml(signedAuthnRequest()));
    expect(result.canonicalXml.startsWith('<samlp:AuthnRequest')).toBe(true);
  });

  it('trusted certificates as base64 DER; during a rollover the one that verified is reported', () => {
    const result = verify(signedAuthnRequest(), { trustedCertificates: [otherKey.key.certificateBase64, signingKey.key.certificateBase64] });
    expect(result.certificateIndex).toBe(1);
  });

  it('no KeyInfo (Entra signs with a key identifier) -> each trusted certificate is tried', () => {
    const xml = signedAuthnRequest({ withoutKeyInfo: true });
    expect(xml).not.toContain('KeyInfo');
    expect(verify(xml, { trustedCertificates: [otherKey.certPem, signingKey.certPem] }).certificateIndex).toBe(1);
  });

  it('a signed Assertion inside an unsigned Response, checked as the named element', () => {
    const result = verify(responseWithSignedAssertion(), { expectedRootNames: [ASSERTION] }, 'first-assertion');
    expect(result.element.localName).toBe('Assertion');
    expect(textOf(result.element, SAML, 'NameID')).toBe('alice@example.test');
  });

  it('a Response signed over a signed Assertion: both signatures verify, each as its own element', () => {
    const xml = sign(responseWithSignedAssertion(), { localName: 'Response' });
    expect(verify(xml, { expectedRootNames: [RESPONSE] }).id).toBe(RESPONSE_ID);
    expect(verify(xml, {}, 'first-assertion').id).toBe(ASSERTION_ID);
  });

  it('RSA-SHA1 / SHA-1 (Entra AuthnRequests) only when the SP is configured for it', () => {
    const xml = signedAuthnRequest({ signatureAlgorithm: XMLDSIG_ALGORITHMS.rsaSha1, digestAlgorithm: XMLDSIG_ALGORITHMS.sha1 });
    expect(reasonOf(xml)).toBe('signature-algorithm-not-allowed');
    const result = verify(xml, {
      allowedSignatureAlgorithms: [...DEFAULT_SIGNATURE_ALGORITHMS, XMLDSIG_ALGORITHMS.rsaSha1],
      allowedDigestAlgorithms: [...DEFAULT_DIGEST_ALGORITHMS, XMLDSIG_ALGORITHMS.sha1],
    });
    expect(result.signatureAlgorithm).toBe(XMLDSIG_ALGORITHMS.rsaSha1);
  });

  it('an InclusiveNamespaces PrefixList on the exc-c14n transform is allowed', () => {
    const xml = signedAuthnRequest({ inclusivePrefixes: ['saml'] });
    expect(xml).toContain('PrefixList="saml"');
    expect(verify(xml).id).toBe(AUTHN_REQUEST_ID);
  });
});

describe('verifySignedElement: comment injection (exc-c14n drops comments)', () => {
  function inject(xml: string, localName: string, before: string): { xml: string; naive: string } {
    const doc = dom(xml);
    const target = first(doc, SAML, localName);
    const value = target.textContent ?? '';
    const at = value.indexOf(before);
    while (target.firstChild) target.removeChild(target.firstChild);
    target.appendChild(doc.createTextNode(value.slice(0, at)));
    target.appendChild(doc.createComment(''));
    target.appendChild(doc.createTextNode(value.slice(at)));
    // What a naive reader of the posted DOM takes as the value: the first text node.
    return { xml: text(doc), naive: value.slice(0, at) };
  }

  it('NameID "alice@example.test<!---->.evil.example": still valid, read as the full canonical value', () => {
    const template = responseTemplate.replace('alice@example.test', 'alice@example.test.evil.example');
    const signed = sign(template, { localName: 'Assertion' });
    const { xml, naive } = inject(signed, 'NameID', '.evil.example');
    expect(naive).toBe('alice@example.test');
    expect(parseXml(xml).getElementsByTagNameNS(SAML, 'NameID').item(0)?.firstChild?.nodeValue).toBe('alice@example.test');
    const result = verify(xml, {}, 'first-assertion');
    const nameId = first(result.element, SAML, 'NameID');
    expect(nameId.childNodes.length).toBe(1);
    expect(nameId.firstChild?.nodeValue).toBe('alice@example.test.evil.example');
  });

  it('Issuer split by a comment: the returned Issuer has one text node with the whole value', () => {
    const { xml } = inject(signedAuthnRequest(), 'Issuer', '/metadata');
    const issuer = first(verify(xml).element, SAML, 'Issuer');
    expect(issuer.childNodes.length).toBe(1);
    expect(issuer.firstChild?.nodeValue).toBe('https://sp.example.test/metadata');
  });
});

describe('verifySignedElement: signature wrapping (XSW1-XSW8)', () => {
  const signedResp = signedResponse();
  const signedAssertion = responseWithSignedAssertion();

  /** Builds a variant by editing a permissive parse of the genuine document. */
  function variant(xml: string, edit: (doc: Document, response: Element, assertion: Element) => void): string {
    const doc = dom(xml);
    const response = doc.documentElement as Element;
    edit(doc, response, first(response, SAML, 'Assertion'));
    return text(doc);
  }

  it('XSW1: evil Response, original signed Response copied into its Signature -> signature-malformed', () => {
    const xml = variant(signedResp, (doc, response, assertion) => {
      const original = withoutOwnSignature(response);
      const signature = ownSignature(response);
      response.setAttribute('ID', '_evil-response');
      response.replaceChild(evilAssertion(assertion, '_evil-assertion'), assertion);
      signature.appendChild(original);
    });
    expect(reasonOf(xml, { expectedRootNames: [RESPONSE] })).toBe('signature-malformed');
  });

  it('XSW2: evil Response, original Response as a detached sibling before the Signature -> reference-uri', () => {
    const xml = variant(signedResp, (doc, response, assertion) => {
      const original = withoutOwnSignature(response);
      response.setAttribute('ID', '_evil-response');
      response.replaceChild(evilAssertion(assertion, '_evil-assertion'), assertion);
      response.insertBefore(original, ownSignature(response));
    });
    expect(reasonOf(xml, { expectedRootNames: [RESPONSE] })).toBe('reference-uri');
  });

  it('XSW3: evil Assertion inserted before the signed one -> signature-missing (new ID) / duplicate-id (same ID)', () => {
    const fresh = variant(signedAssertion, (doc, response, assertion) => { response.insertBefore(evilAssertion(assertion, '_evil'), assertion); });
    expect(reasonOf(fresh, {}, 'first-assertion')).toBe('signature-missing');
    const same = variant(signedAssertion, (doc, response, assertion) => { response.insertBefore(evilAssertion(assertion, ASSERTION_ID), assertion); });
    expect(reasonOf(same, {}, 'first-assertion')).toBe('duplicate-id');
  });

  it('XSW4: evil Assertion wrapping the signed one -> signature-missing', () => {
    const xml = variant(signedAssertion, (doc, response, assertion) => {
      const evil = evilAssertion(assertion, '_evil');
      evil.appendChild(clone(assertion));
      response.replaceChild(evil, assertion);
    });
    expect(reasonOf(xml, {}, 'first-assertion')).toBe('signature-missing');
  });

  it('XSW5: evil Assertion carries the Signature, the original (unsigned) appended to the Response -> reference-uri', () => {
    const xml = variant(signedAssertion, (doc, response, assertion) => {
      const evil = evilAssertion(assertion, '_evil');
      evil.insertBefore(clone(ownSignature(assertion)), first(evil, SAML, 'Subject'));
      response.replaceChild(evil, assertion);
      response.appendChild(withoutOwnSignature(assertion));
    });
    expect(reasonOf(xml, {}, 'first-assertion')).toBe('reference-uri');
  });

  it('XSW6: evil Assertion with the Signature, the original inside that Signature -> signature-malformed', () => {
    const xml = variant(signedAssertion, (doc, response, assertion) => {
      const evil = evilAssertion(assertion, '_evil');
      const signature = clone(ownSignature(assertion));
      signature.appendChild(withoutOwnSignature(assertion));
      evil.insertBefore(signature, first(evil, SAML, 'Subject'));
      response.replaceChild(evil, assertion);
    });
    expect(reasonOf(xml, {}, 'first-assertion')).toBe('signature-malformed');
  });

  it('XSW7: original in an Extensions element, evil Assertion in its place -> signature-missing; the original reads as alice', () => {
    const xml = variant(signedAssertion, (doc, response, assertion) => {
      const extensions = doc.createElementNS(SAMLP, 'samlp:Extensions');
      extensions.appendChild(clone(assertion));
      response.insertBefore(extensions, first(response, SAMLP, 'Status'));
      response.replaceChild(evilAssertion(assertion, '_evil'), assertion);
    });
    expect(reasonOf(xml, {}, 'first-assertion')).toBe('signature-missing');
    // Whichever element a caller verifies, what it reads is what was signed.
    const doc = parseXml(xml);
    const hidden = first(first(doc, SAMLP, 'Extensions'), SAML, 'Assertion');
    expect(textOf(verifySignedElement(doc, { ...BASE, element: hidden }).element, SAML, 'NameID')).toBe('alice@example.test');
  });

  it('XSW8: evil Assertion with the Signature, the original in a ds:Object -> signature-malformed', () => {
    const xml = variant(signedAssertion, (doc, response, assertion) => {
      const evil = evilAssertion(assertion, '_evil');
      const signature = clone(ownSignature(assertion));
      const object = doc.createElementNS(DSIG, 'ds:Object');
      object.appendChild(withoutOwnSignature(assertion));
      signature.appendChild(object);
      evil.insertBefore(signature, first(evil, SAML, 'Subject'));
      response.replaceChild(evil, assertion);
    });
    expect(reasonOf(xml, {}, 'first-assertion')).toBe('signature-malformed');
    // Even with the evil copy under the original's ID, the duplicate is caught first.
    const sameId = xml.replace('ID="_evil"', `ID="${ASSERTION_ID}"`);
    expect(reasonOf(sameId, {}, 'first-assertion')).toBe('duplicate-id');
  });

  it('the signed Assertion moved inside the evil one (same ID removed from the evil copy): only the original is returned', () => {
    const xml = variant(signedAssertion, (doc, response, assertion) => {
      const evil = evilAssertion(assertion, '_evil');
      evil.appendChild(clone(assertion));
      response.replaceChild(evil, assertion);
    });
    const doc = parseXml(xml);
    const inner = doc.getElementsByTagNameNS(SAML, 'Assertion').item(1) as Element;
    const result = verifySignedElement(doc, { ...BASE, element: inner });
    expect(textOf(result.element, SAML, 'NameID')).toBe('alice@example.test');
    expect(result.element.getElementsByTagNameNS(SAML, 'Assertion').length).toBe(0);
  });
});

describe('verifySignedElement: wrapping a signed AuthnRequest', () => {
  /** An evil AuthnRequest (ACS of the attacker) whose Extensions hide the genuine signed one. */
  function wrapped(evilId: string, moveSignature: boolean): string {
    const doc = dom(signedAuthnRequest());
    const original = doc.documentElement as Element;
    const evil = clone(original);
    evil.setAttribute('ID', evilId);
    evil.setAttribute('AssertionConsumerServiceURL', 'https://evil.example/acs');
    const signature = ownSignature(evil);
    evil.removeChild(signature);
    const extensions = doc.createElementNS(SAMLP, 'samlp:Extensions');
    extensions.appendChild(moveSignature ? withoutOwnSignature(original) : original.cloneNode(true));
    if (moveSignature) evil.insertBefore(signature, first(evil, SAMLP, 'NameIDPolicy'));
    evil.insertBefore(extensions, first(evil, SAMLP, 'NameIDPolicy'));
    doc.replaceChild(evil, original);
    return text(doc);
  }

  it('evil root without a Signature, the signed original inside Extensions -> signature-missing', () => {
    expect(reasonOf(wrapped('_evil', false), { expectedRootNames: [AUTHN_REQUEST] })).toBe('signature-missing');
  });

  it('evil root carrying the original Signature, the original (unsigned) in Extensions -> reference-uri; same ID -> duplicate-id', () => {
    expect(reasonOf(wrapped('_evil', true))).toBe('reference-uri');
    expect(reasonOf(wrapped(AUTHN_REQUEST_ID, true))).toBe('duplicate-id');
  });

  it('verifying the hidden original returns the original ACS, never the wrapper\'s', () => {
    const doc = parseXml(wrapped('_evil', false));
    const hidden = first(first(doc, SAMLP, 'Extensions'), SAMLP, 'AuthnRequest');
    const result = verifySignedElement(doc, { ...BASE, element: hidden });
    expect(result.element.getAttribute('AssertionConsumerServiceURL')).toBe('https://sp.example.test/acs');
  });
});

describe('verifySignedElement: refusals', () => {
  it('signature stripped -> signature-missing', () => {
    const doc = dom(signedAuthnRequest());
    const root = doc.documentElement as Element;
    root.removeChild(ownSignature(root));
    expect(reasonOf(text(doc))).toBe('signature-missing');
  });

  it('signed by an untrusted key with its certificate in KeyInfo -> untrusted-key (KeyInfo is no trust anchor)', () => {
    expect(reasonOf(signedAuthnRequest({ key: otherKey }))).toBe('untrusted-key');
  });

  it('signed by an untrusted key without KeyInfo -> signature-invalid', () => {
    expect(reasonOf(signedAuthnRequest({ key: otherKey, withoutKeyInfo: true }))).toBe('signature-invalid');
  });

  it('trusted certificate in KeyInfo but the signature made with another key -> signature-invalid', () => {
    const xml = signedAuthnRequest({ key: otherKey }).replace(
      /<ds:X509Certificate>[^<]*<\/ds:X509Certificate>/, `<ds:X509Certificate>${signingKey.key.certificateBase64}</ds:X509Certificate>`);
    expect(reasonOf(xml)).toBe('signature-invalid');
  });

  it('HMAC keyed with the public certificate (key confusion) -> signature-algorithm-not-allowed, even when listed', () => {
    const xml = signedAuthnRequest({ hmacSecret: signingKey.certPem });
    expect(xml).toContain('hmac-sha1');
    expect(reasonOf(xml)).toBe('signature-algorithm-not-allowed');
    expect(reasonOf(xml, { allowedSignatureAlgorithms: ['http://www.w3.org/2000/09/xmldsig#hmac-sha1'] })).toBe('signature-algorithm-not-allowed');
  });

  it('SHA-1 downgrade: RSA-SHA1 -> signature-algorithm-not-allowed; a SHA-1 digest -> digest-algorithm-not-allowed', () => {
    expect(reasonOf(signedAuthnRequest({ signatureAlgorithm: XMLDSIG_ALGORITHMS.rsaSha1 }))).toBe('signature-algorithm-not-allowed');
    expect(reasonOf(signedAuthnRequest({ digestAlgorithm: XMLDSIG_ALGORITHMS.sha1 }))).toBe('digest-algorithm-not-allowed');
  });

  it('a Signature in the Response whose Reference points at the Assertion -> reference-uri', () => {
    const doc = dom(responseWithSignedAssertion());
    const response = doc.documentElement as Element;
    const assertion = first(response, SAML, 'Assertion');
    const signature = ownSignature(assertion);
    assertion.removeChild(signature);
    response.insertBefore(signature, first(response, SAMLP, 'Status'));
    expect(reasonOf(text(doc), { expectedRootNames: [RESPONSE] })).toBe('reference-uri');
  });

  it('two References (the element and another) -> reference-count', () => {
    expect(reasonOf(sign(responseTemplate, { localName: 'Response', extraReferences: ['Assertion'] }))).toBe('reference-count');
  });

  it('Reference URI="" (the whole document) -> reference-uri', () => {
    const xml = signedAuthnRequest().replace(`URI="#${AUTHN_REQUEST_ID}"`, 'URI=""');
    expect(reasonOf(xml)).toBe('reference-uri');
  });

  it('transforms other than enveloped-signature + exc-c14n -> transform-not-allowed', () => {
    expect(reasonOf(signedAuthnRequest({ transforms: [EXC_C14N] }))).toBe('transform-not-allowed');
    expect(reasonOf(signedAuthnRequest({ transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'] })))
      .toBe('transform-not-allowed');
    expect(reasonOf(signedAuthnRequest({ transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments'] })))
      .toBe('transform-not-allowed');
  });

  it('anything but one empty InclusiveNamespaces inside a transform (an XPath, a child) -> transform-not-allowed', () => {
    const withExtra = (edit: (doc: Document, exc: Element) => void): string => {
      const doc = dom(signedAuthnRequest({ inclusivePrefixes: ['saml'] }));
      edit(doc, doc.getElementsByTagNameNS(DSIG, 'Transform').item(1) as Element);
      return text(doc);
    };
    expect(reasonOf(withExtra((doc, exc) => { exc.appendChild(doc.createElementNS(DSIG, 'ds:XPath')).appendChild(doc.createTextNode('1')); })))
      .toBe('transform-not-allowed');
    expect(reasonOf(withExtra((doc, exc) => { exc.firstChild?.appendChild(doc.createElementNS(EXC_C14N, 'x')); }))).toBe('transform-not-allowed');
  });

  it('CanonicalizationMethod other than exc-c14n -> canonicalization-not-allowed', () => {
    const xml = signedAuthnRequest().replace(
      `<ds:CanonicalizationMethod Algorithm="${EXC_C14N}"`, '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#WithComments"');
    expect(reasonOf(xml)).toBe('canonicalization-not-allowed');
  });

  it('an element hidden inside DigestValue or SignatureValue -> signature-malformed', () => {
    for (const name of ['DigestValue', 'SignatureValue']) {
      const xml = signedAuthnRequest().replace(`</ds:${name}>`, `<x:SignatureValue xmlns:x="urn:x">AAAA</x:SignatureValue></ds:${name}>`);
      expect(reasonOf(xml), name).toBe('signature-malformed');
    }
  });

  it('two Signatures directly inside the element -> signature-multiple', () => {
    const doc = dom(signedAuthnRequest());
    const root = doc.documentElement as Element;
    root.appendChild(clone(ownSignature(root)));
    expect(reasonOf(text(doc))).toBe('signature-multiple');
  });

  it('signed content changed -> digest-mismatch; SignatureValue changed -> signature-invalid', () => {
    expect(reasonOf(signedAuthnRequest().replace('https://sp.example.test/acs', 'https://evil.example/acs'))).toBe('digest-mismatch');
    expect(reasonOf(signedAuthnRequest().replace(/<ds:SignatureValue>(.)/, (_m, c: string) => `<ds:SignatureValue>${c === 'A' ? 'B' : 'A'}`)))
      .toBe('signature-invalid');
  });

  it('duplicate IDs anywhere in the document (ID, Id, wsu:Id, AssertionID) -> duplicate-id', () => {
    for (const attribute of ['ID', 'Id', 'id', 'AssertionID', 'wsu:Id']) {
      const decl = attribute.startsWith('wsu:') ? ' xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"' : '';
      const xml = signedAuthnRequest().replace('<samlp:NameIDPolicy ', `<samlp:Extensions><x${decl} ${attribute}="${AUTHN_REQUEST_ID}"/></samlp:Extensions><samlp:NameIDPolicy `);
      expect(reasonOf(xml), attribute).toBe('duplicate-id');
    }
  });

  it('an element of another name -> unexpected-element; no ID -> missing-id', () => {
    expect(reasonOf(signedAuthnRequest(), { expectedRootNames: [RESPONSE] })).toBe('unexpected-element');
    expect(reasonOf(signedAuthnRequest(), { idAttribute: 'AssertionID' })).toBe('missing-id');
  });

  it('a namespace URI multiplied by exc-c14n on many siblings (canonical-form amplification) -> too-large, before canonicalising', () => {
    const uri = `urn:${'x'.repeat(60_000)}`;
    const siblings = '<p:a/>'.repeat(25_000);
    const xml = signedAuthnRequest()
      .replace('<samlp:AuthnRequest ', `<samlp:AuthnRequest xmlns:p="${uri}" `)
      .replace('<samlp:NameIDPolicy ', `<samlp:Extensions>${siblings}</samlp:Extensions><samlp:NameIDPolicy `);
    expect(xml.length).toBeLessThan(256 * 1024);
    const started = Date.now();
    expect(reasonOf(xml)).toBe('too-large');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a document that did not come from parseXml (one way in)', () => {
    const doc = new DOMParser().parseFromString(signedAuthnRequest(), 'text/xml');
    expect(() => verifySignedElement(doc, BASE)).toThrow(/not parsed by parseXml/);
  });

  it('a misconfigured trusted certificate is a configuration error, not a refusal of the message', () => {
    expect(() => verify(signedAuthnRequest(), { trustedCertificates: ['not a certificate'] })).toThrow(/misconfigured/);
    expect(() => verify(signedAuthnRequest(), { trustedCertificates: [] })).toThrow(/misconfigured/);
  });
});
