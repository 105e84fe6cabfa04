import { sign as signBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SIGNATURE_ALGORITHMS, verifyRedirectBindingSignature, XMLDSIG_ALGORITHMS,
  type VerifiedRedirectMessage, type XmlRejectionReason,
} from '../../../src/xml/verify-signed.js';
import { otherKey, signingKey, type TestKey } from '../signature-oracles.js';
import { rejectionOf } from './rejection.js';
import { authnRequestTemplate } from './signed-samples.js';

const HASH: Readonly<Record<string, string>> = { [XMLDSIG_ALGORITHMS.rsaSha256]: 'sha256', [XMLDSIG_ALGORITHMS.rsaSha1]: 'sha1', [XMLDSIG_ALGORITHMS.rsaSha512]: 'sha512' };
const SAML_REQUEST = deflateRawSync(Buffer.from(authnRequestTemplate, 'utf8')).toString('base64');
const RELAY_STATE = 'https://app.example.test/after?x=1&y=a b';

interface SignedQuery {
  readonly parameter?: 'SAMLRequest' | 'SAMLResponse';
  readonly relayState?: string | undefined;
  readonly sigAlg?: string;
  readonly key?: TestKey;
  /** Parameter names in the order the signer joins them (default: the binding's order). */
  readonly signedOrder?: readonly string[];
  /** Parameter names in the order they are sent (default: the signed order). */
  readonly sentOrder?: readonly string[];
}

/** Signs as an SP does: the URL-encoded parameters joined in the binding's order, RSA over those octets. */
function redirectQuery(options: SignedQuery = {}): string {
  const sigAlg = options.sigAlg ?? XMLDSIG_ALGORITHMS.rsaSha256;
  const values: Record<string, string> = { [options.parameter ?? 'SAMLRequest']: encodeURIComponent(SAML_REQUEST), SigAlg: encodeURIComponent(sigAlg) };
  const relayState = 'relayState' in options ? options.relayState : RELAY_STATE;
  if (relayState !== undefined) values.RelayState = encodeURIComponent(relayState);
  const signedOrder = (options.signedOrder ?? [options.parameter ?? 'SAMLRequest', 'RelayState', 'SigAlg']).filter((n) => n in values);
  const octets = signedOrder.map((n) => `${n}=${values[n] ?? ''}`).join('&');
  const signature = signBytes(HASH[sigAlg] ?? 'sha256', Buffer.from(octets, 'utf8'), (options.key ?? signingKey).key.privateKey).toString('base64');
  values.Signature = encodeURIComponent(signature);
  const sentOrder = options.sentOrder ?? [...signedOrder, 'Signature'];
  return sentOrder.filter((n) => n in values).map((n) => `${n}=${values[n] ?? ''}`).join('&');
}

function verify(raw: string, allowed: readonly string[] = DEFAULT_SIGNATURE_ALGORITHMS, certs: readonly string[] = [signingKey.certPem]): VerifiedRedirectMessage {
  return verifyRedirectBindingSignature({ raw }, certs, allowed);
}

const reasonOf = (raw: string, allowed?: readonly string[]): XmlRejectionReason | 'accepted' => rejectionOf(() => verify(raw, allowed));

describe('verifyRedirectBindingSignature: genuine queries', () => {
  it('a signed SAMLRequest with RelayState -> the decoded message and RelayState, and the certificate', () => {
    const result = verify(redirectQuery());
    expect(result.parameter).toBe('SAMLRequest');
    expect(result.message).toBe(SAML_REQUEST);
    expect(result.relayState).toBe(RELAY_STATE);
    expect(result.signatureAlgorithm).toBe(XMLDSIG_ALGORITHMS.rsaSha256);
    expect(result.certificateIndex).toBe(0);
  });

  it('the octets are the values as sent: lower-case escapes and a leading "?" still verify', () => {
    const raw = redirectQuery({ relayState: 'a/b' });
    // Re-encode RelayState with lower-case hex by hand and sign exactly that.
    const lower = raw.replace('RelayState=a%2Fb', 'RelayState=a%2fb');
    expect(reasonOf(lower)).toBe('signature-invalid');
    const values = `SAMLRequest=${encodeURIComponent(SAML_REQUEST)}&RelayState=a%2fb&SigAlg=${encodeURIComponent(XMLDSIG_ALGORITHMS.rsaSha256)}`;
    const signature = signBytes('sha256', Buffer.from(values), signingKey.key.privateKey).toString('base64');
    const result = verify(`?${values}&Signature=${encodeURIComponent(signature)}`);
    expect(result.relayState).toBe('a/b');
  });

  it('a SAMLResponse without RelayState, during a rollover (second trusted certificate)', () => {
    const result = verify(redirectQuery({ parameter: 'SAMLResponse', relayState: undefined }), DEFAULT_SIGNATURE_ALGORITHMS, [otherKey.certPem, signingKey.key.certificateBase64]);
    expect(result.parameter).toBe('SAMLResponse');
    expect(result.relayState).toBeUndefined();
    expect(result.certificateIndex).toBe(1);
  });

  it('RSA-SHA1 only when allowed', () => {
    const raw = redirectQuery({ sigAlg: XMLDSIG_ALGORITHMS.rsaSha1 });
    expect(reasonOf(raw)).toBe('signature-algorithm-not-allowed');
    expect(reasonOf(raw, [XMLDSIG_ALGORITHMS.rsaSha1])).toBe('accepted');
  });

  it('unrelated parameters elsewhere in the query are ignored', () => {
    expect(reasonOf(`foo=bar&${redirectQuery()}&x`)).toBe('accepted');
  });
});

describe('verifyRedirectBindingSignature: refusals', () => {
  it('tampered parameter order: sent out of the binding order -> redirect-malformed', () => {
    expect(reasonOf(redirectQuery({ sentOrder: ['RelayState', 'SAMLRequest', 'SigAlg', 'Signature'] }))).toBe('redirect-malformed');
    expect(reasonOf(redirectQuery({ sentOrder: ['SAMLRequest', 'SigAlg', 'RelayState', 'Signature'] }))).toBe('redirect-malformed');
  });

  it('tampered parameter order: signed over another order -> signature-invalid', () => {
    const raw = redirectQuery({ signedOrder: ['RelayState', 'SAMLRequest', 'SigAlg'], sentOrder: ['SAMLRequest', 'RelayState', 'SigAlg', 'Signature'] });
    expect(reasonOf(raw)).toBe('signature-invalid');
  });

  it('tampered RelayState (changed, added or removed) -> signature-invalid', () => {
    const raw = redirectQuery();
    expect(reasonOf(raw.replace(/RelayState=[^&]*/, `RelayState=${encodeURIComponent('https://evil.example/')}`))).toBe('signature-invalid');
    expect(reasonOf(raw.replace(/&RelayState=[^&]*/, ''))).toBe('signature-invalid');
    const none = redirectQuery({ relayState: undefined });
    expect(reasonOf(none.replace('&SigAlg=', '&RelayState=evil&SigAlg='))).toBe('signature-invalid');
  });

  it('tampered SAMLRequest -> signature-invalid', () => {
    const other = deflateRawSync(Buffer.from(authnRequestTemplate.replace('https://sp.example.test/acs', 'https://evil.example/acs'))).toString('base64');
    expect(reasonOf(redirectQuery().replace(/SAMLRequest=[^&]*/, `SAMLRequest=${encodeURIComponent(other)}`))).toBe('signature-invalid');
  });

  it('wrong SigAlg: another allowed algorithm than was used -> signature-invalid; not allowed or HMAC -> signature-algorithm-not-allowed', () => {
    const raw = redirectQuery();
    expect(reasonOf(raw.replace(encodeURIComponent(XMLDSIG_ALGORITHMS.rsaSha256), encodeURIComponent(XMLDSIG_ALGORITHMS.rsaSha512)))).toBe('signature-invalid');
    expect(reasonOf(raw.replace(encodeURIComponent(XMLDSIG_ALGORITHMS.rsaSha256), encodeURIComponent(XMLDSIG_ALGORITHMS.rsaSha1)))).toBe('signature-algorithm-not-allowed');
    const hmac = 'http://www.w3.org/2000/09/xmldsig#hmac-sha1';
    expect(reasonOf(raw.replace(encodeURIComponent(XMLDSIG_ALGORITHMS.rsaSha256), encodeURIComponent(hmac)), [hmac])).toBe('signature-algorithm-not-allowed');
  });

  it('signed by an untrusted key -> signature-invalid', () => {
    expect(reasonOf(redirectQuery({ key: otherKey }))).toBe('signature-invalid');
  });

  it('a truncated or empty signature -> signature-invalid, never a crash', () => {
    expect(reasonOf(redirectQuery().replace(/Signature=[^&]*/, 'Signature=AAAA'))).toBe('signature-invalid');
    expect(reasonOf(redirectQuery().replace(/Signature=[^&]*/, 'Signature='))).toBe('redirect-malformed');
  });

  it('no Signature or no SigAlg -> redirect-unsigned', () => {
    expect(reasonOf(redirectQuery().replace(/&Signature=[^&]*/, ''))).toBe('redirect-unsigned');
    expect(reasonOf(redirectQuery().replace(/&SigAlg=[^&]*/, ''))).toBe('redirect-unsigned');
  });

  it('a binding parameter given twice (parameter pollution) -> redirect-malformed', () => {
    const raw = redirectQuery();
    expect(reasonOf(`${raw}&RelayState=evil`)).toBe('redirect-malformed');
    expect(reasonOf(`SAMLRequest=x&${raw}`)).toBe('redirect-malformed');
    expect(reasonOf(`${raw}&Signature=AAAA`)).toBe('redirect-malformed');
  });

  it('both or neither of SAMLRequest and SAMLResponse -> redirect-malformed; bad escapes or base64 -> redirect-malformed', () => {
    expect(reasonOf(`SAMLResponse=x&${redirectQuery()}`)).toBe('redirect-malformed');
    expect(reasonOf(redirectQuery().replace(/SAMLRequest=[^&]*&/, ''))).toBe('redirect-malformed');
    expect(reasonOf(redirectQuery().replace(/Signature=[^&]*/, 'Signature=%E0%A4%A'))).toBe('redirect-malformed');
    expect(reasonOf(redirectQuery().replace(/Signature=[^&]*/, 'Signature=not*base64'))).toBe('redirect-malformed');
  });

  it('an over-long query -> too-large', () => {
    expect(reasonOf(`${redirectQuery()}&pad=${'a'.repeat(300 * 1024)}`)).toBe('too-large');
  });
});
