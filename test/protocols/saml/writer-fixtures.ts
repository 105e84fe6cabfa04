/**
 * Inputs and independent checkers for the outbound SAML 2.0 writer tests: xmlsec1 (verify and
 * decrypt) and @node-saml/node-saml's SAML class standing in for a service provider. The IdP signs
 * with the token-signing fixture key; the SP's key (its encryption and request-signing key) is the
 * unrelated "other" fixture key.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Element } from '@xmldom/xmldom';
import { SAML, ValidateInResponseTo, type SamlConfig } from '@node-saml/node-saml';
import { SAML_AUTHN_CONTEXT, SAML_NAMEID_FORMAT, SAML_NS } from '../../../src/protocols/saml/saml-constants.js';
import type { Saml2AssertionInput } from '../../../src/protocols/saml/saml2-assertion.js';
import type { Saml2ResponseInput } from '../../../src/protocols/saml/saml2-response.js';
import { otherKey, signingKey } from '../../xml/signature-oracles.js';

export const IDP_ISSUER = 'http://fedgate.example.com/adfs/services/trust';
export const ENTRA = { entityId: 'urn:federation:MicrosoftOnline', acs: 'https://login.microsoftonline.com/login.srf' };
export const SP = { entityId: 'https://sp.example.org/saml', acs: 'https://sp.example.org/saml/acs', slo: 'https://sp.example.org/saml/slo' };
export const REQUEST_ID = '_049917a6-1d4c-4f4e-9d0a-5b1e2c3d4e5f';
export const IMMUTABLE_ID = 'cBxVeG+XQECCbDIdvNJ4fg==';

/** The SP's private key (PEM), for node-saml's decryptionPvk and xmlsec1 --decrypt. */
export const SP_PRIVATE_KEY_PEM = otherKey.key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
export const SP_CERT_BASE64 = otherKey.key.certificateBase64;

/** The §2.3 assertion for Entra, valid around `now`. */
export function entraAssertionInput(now: Date = new Date(), overrides: Partial<Saml2AssertionInput> = {}): Saml2AssertionInput {
  const at = (ms: number) => new Date(now.getTime() + ms);
  return {
    assertionId: '_7e3c1a2b-0c4d-4e5f-8a9b-0c1d2e3f4a5b',
    issuer: IDP_ISSUER,
    issueInstant: now,
    nameId: { value: IMMUTABLE_ID, format: SAML_NAMEID_FORMAT.persistent },
    subjectConfirmation: { recipient: ENTRA.acs, notOnOrAfter: at(5 * 60_000), inResponseTo: REQUEST_ID },
    notBefore: now,
    notOnOrAfter: at(60 * 60_000),
    audience: ENTRA.entityId,
    attributes: [{ name: 'IDPEmail', values: ['alice@example.com'] }],
    authnInstant: at(-2_000),
    sessionIndex: '_7e3c1a2b-0c4d-4e5f-8a9b-0c1d2e3f4a5b',
    authnContextClassRef: SAML_AUTHN_CONTEXT.passwordProtectedTransport,
    ...overrides,
  };
}

/** The same assertion addressed to the generic SP (node-saml). */
export function spAssertionInput(now: Date = new Date(), overrides: Partial<Saml2AssertionInput> = {}): Saml2AssertionInput {
  return entraAssertionInput(now, {
    nameId: { value: 'alice@example.com', format: SAML_NAMEID_FORMAT.emailAddress },
    subjectConfirmation: { recipient: SP.acs, notOnOrAfter: new Date(now.getTime() + 5 * 60_000), inResponseTo: REQUEST_ID },
    audience: SP.entityId,
    attributes: [
      { name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', nameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri', friendlyName: 'upn', values: ['alice@example.com'] },
      { name: 'groups', nameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic', values: ['staff', 'admins'] },
    ],
    ...overrides,
  });
}

export function responseInput(now: Date = new Date(), overrides: Partial<Saml2ResponseInput> = {}): Saml2ResponseInput {
  return { id: '_592c0d1e-2f3a-4b5c-9d6e-7f8091a2b3c4', issueInstant: now, issuer: IDP_ISSUER, destination: SP.acs, inResponseTo: REQUEST_ID, ...overrides };
}

// ---------------------------------------------------------------------------------------------
// xmlsec1

const ID_ATTRIBUTES = [
  ['--id-attr:ID', `${SAML_NS.protocol}:Response`],
  ['--id-attr:ID', `${SAML_NS.protocol}:LogoutRequest`],
  ['--id-attr:ID', `${SAML_NS.protocol}:LogoutResponse`],
  ['--id-attr:ID', `${SAML_NS.assertion}:Assertion`],
].flat();

function runXmlsec1(args: readonly string[], xml: string, files: Readonly<Record<string, string>> = {}): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fedgate-saml2-'));
  try {
    for (const [name, content] of Object.entries({ ...files, 'message.xml': xml })) writeFileSync(join(dir, name), content, 'utf8');
    const resolved = args.map((a) => (a.startsWith('@') ? join(dir, a.slice(1)) : a));
    try {
      return { ok: true, output: execFileSync('xmlsec1', [...resolved, join(dir, 'message.xml')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string };
      return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * xmlsec1 --verify of one signature, the IdP certificate pinned: the signature of the element
 * `signed` names (Response, Assertion, LogoutRequest, LogoutResponse), wherever it sits.
 */
export function xmlsec1VerifySaml2(xml: string, signed: 'Response' | 'Assertion' | 'LogoutRequest' | 'LogoutResponse', certPem: string = signingKey.certPem): { ok: boolean; output: string } {
  const xpath = `//*[local-name()='${signed}']/*[local-name()='Signature']`;
  return runXmlsec1(['--verify', ...ID_ATTRIBUTES, '--node-xpath', xpath, '--pubkey-cert-pem', '@cert.pem'], xml, { 'cert.pem': certPem });
}

/** xmlsec1 --decrypt of the first EncryptedData with the SP's private key: the decrypted document. */
export function xmlsec1Decrypt(xml: string): { ok: boolean; output: string } {
  return runXmlsec1(['--decrypt', '--privkey-pem', '@key.pem'], xml, { 'key.pem': SP_PRIVATE_KEY_PEM });
}

// ---------------------------------------------------------------------------------------------
// node-saml as the service provider

export function nodeSamlSp(options: Partial<SamlConfig> = {}): SAML {
  return new SAML({
    callbackUrl: SP.acs,
    issuer: SP.entityId,
    audience: SP.entityId,
    idpCert: signingKey.certPem,
    idpIssuer: IDP_ISSUER,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: ValidateInResponseTo.never,
    acceptedClockSkewMs: 0,
    ...options,
  });
}

/** A node-saml SP that remembers having sent REQUEST_ID, and checks InResponseTo always. */
export async function nodeSamlSpExpecting(requestId: string, options: Partial<SamlConfig> = {}): Promise<SAML> {
  const sp = nodeSamlSp({ validateInResponseTo: ValidateInResponseTo.always, ...options });
  await sp.cacheProvider.saveAsync(requestId, new Date().toISOString());
  return sp;
}

/** Child element local names, in order (text nodes as #3: there must be none). */
export function childNames(e: Element): string[] {
  const names: string[] = [];
  for (let n = e.firstChild; n; n = n.nextSibling) names.push(n.nodeType === 1 ? String((n as Element).localName) : `#${n.nodeType}`);
  return names;
}

export const base64 = (xml: string): string => Buffer.from(xml, 'utf8').toString('base64');
