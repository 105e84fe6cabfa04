/**
 * Signed WS-Fed tokens per second on ONE core (this process, one thread), with a freshly generated
 * RSA-2048 key parsed once into a KeyObject, as in production (performance.md):
 *   - RSA-2048 sign alone (crypto.sign): the physical limit, one per token;
 *   - fedgate: the SAML 1.1 assertion written in exclusive canonical form, signed once, wrapped in the RSTR;
 *   - xml-crypto 6: the same assertion (unsigned, same bytes) signed through DOM + XPath + c14n, for comparison.
 * Prints throughput and the median µs per token; asserts nothing.
 *
 *   npx tsx bench/wsfed-token.ts [seconds per measurement=3]
 */
import { randomUUID, sign } from 'node:crypto';
import { cpus } from 'node:os';
import { SignedXml } from 'xml-crypto';
import { generateSigningCertificate } from '../src/keys/generate-certificate.js';
import { parseSigningKey, type SigningKey } from '../src/keys/key-store.js';
import { writeRstr } from '../src/protocols/wsfed/rstr.js';
import { writeSignedSaml11Assertion, type Saml11AssertionInput } from '../src/protocols/wsfed/saml11-assertion.js';
import { element, namespace, serializeCanonical } from '../src/xml/canonical-xml.js';

const seconds = Number(process.argv[2] ?? 3);

const { keyPem, certPem } = await generateSigningCertificate('sts.example.com', 86_400_000);
const key: SigningKey = parseSigningKey(keyPem, certPem, 'bench');

// What fedgate sends Entra for a password sign-in (entra-federation.md §1.3, §6).
function entraInput(): Saml11AssertionInput {
  const now = new Date();
  return {
    assertionId: `_${randomUUID()}`,
    issuer: 'http://example.com/adfs/services/trust/',
    issueInstant: now,
    notBefore: now,
    notOnOrAfter: new Date(now.getTime() + 3_600_000),
    audience: 'urn:federation:MicrosoftOnline',
    nameIdentifier: { value: 'cBxVeG+XQECCbDIdvNJ4fg==', format: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified' },
    attributes: [
      { name: 'UPN', namespace: 'http://schemas.xmlsoap.org/claims', values: ['alice@example.com'] },
      { name: 'ImmutableID', namespace: 'http://schemas.microsoft.com/LiveID/Federation/2008/05', values: ['cBxVeG+XQECCbDIdvNJ4fg=='] },
      { name: 'authnmethodsreferences', namespace: 'http://schemas.microsoft.com/claims', values: ['urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'] },
      { name: 'insidecorporatenetwork', namespace: 'http://schemas.microsoft.com/ws/2012/01', values: ['false'] },
    ],
    authenticationMethod: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
    authenticationInstant: now,
  };
}

function fedgateToken(): string {
  const input = entraInput();
  const assertion = writeSignedSaml11Assertion(input, key, 'rsa-sha256');
  return writeRstr({ created: input.issueInstant, expires: input.notOnOrAfter, appliesTo: input.audience, assertion });
}

// The same assertion bytes without a signature, for xml-crypto to sign (the writer is not timed for it).
const SAML = namespace('saml', 'urn:oasis:names:tc:SAML:1.0:assertion');
function unsignedAssertion(): string {
  const signed = writeSignedSaml11Assertion(entraInput(), key, 'rsa-sha256');
  return signed.slice(0, signed.indexOf('<ds:Signature ')) + '</saml:Assertion>';
}
const unsigned = unsignedAssertion();
function xmlCryptoToken(): string {
  const sig = new SignedXml({ privateKey: key.privateKey, publicCert: certPem, idAttribute: 'AssertionID' });
  sig.signatureAlgorithm = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
  sig.canonicalizationAlgorithm = 'http://www.w3.org/2001/10/xml-exc-c14n#';
  sig.addReference({
    xpath: "/*[local-name(.)='Assertion']",
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sig.computeSignature(unsigned, { prefix: 'ds', location: { reference: "/*[local-name(.)='Assertion']", action: 'append' } });
  return sig.getSignedXml();
}

const signedInfoLike = Buffer.from(serializeCanonical(element(SAML, 'x', {}, ['a'.repeat(900)])).xml);
function rsaSignOnly(): Buffer {
  return sign('sha256', signedInfoLike, key.privateKey);
}

interface Figures { readonly perSecond: number; readonly medianMicros: number; readonly count: number }

function measure(fn: () => unknown): Figures {
  const warmUntil = performance.now() + 500;
  while (performance.now() < warmUntil) fn();
  const samples: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    fn();
    const after = performance.now();
    samples.push(after - now);
    now = after;
  }
  samples.sort((a, b) => a - b);
  const elapsed = (now - start) / 1000;
  return { perSecond: samples.length / elapsed, medianMicros: (samples[Math.floor(samples.length / 2)] ?? 0) * 1000, count: samples.length };
}

const print = (label: string, f: Figures) =>
  console.log(`${label.padEnd(56)} ${f.perSecond.toFixed(0).padStart(7)} /s/core   median ${f.medianMicros.toFixed(0).padStart(6)} µs   (${f.count} runs)`);

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} x${cpus().length}; ${seconds} s per measurement, one thread`);
console.log(`token: assertion ${Buffer.byteLength(writeSignedSaml11Assertion(entraInput(), key, 'rsa-sha256'))} B, RSTR ${Buffer.byteLength(fedgateToken())} B`);
const rsa = measure(rsaSignOnly);
print('RSA-2048 crypto.sign (KeyObject), the limit', rsa);
const fedgate = measure(fedgateToken);
print('fedgate: canonical assertion + 1 signature + RSTR', fedgate);
const xmlCrypto = measure(xmlCryptoToken);
print('xml-crypto 6: sign the same assertion (no RSTR)', xmlCrypto);
console.log(`fedgate reaches ${((fedgate.perSecond / rsa.perSecond) * 100).toFixed(0)}% of bare RSA signing; `
  + `${(fedgate.perSecond / xmlCrypto.perSecond).toFixed(1)}x xml-crypto; writer+digest+RSTR overhead ≈ ${(fedgate.medianMicros - rsa.medianMicros).toFixed(0)} µs per token`);
