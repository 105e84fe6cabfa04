/**
 * Entra ID federated over SAML 2.0 (entra-federation.md §2): Entra's sample AuthnRequests (§2.2),
 * unsigned and signed the way Entra signs (RSA-SHA1, KeyInfo = X509SKI + KeyName, no certificate),
 * sent to fedgate over HTTP; the response checked by the independent login.srf stand-in
 * (saml-login-srf.ts, xmlsec1 for the signature). Users from the WS-Fed tenant: two federated
 * domains with their own issuers, a sub-domain, a domain that is not federated, and one user
 * without a source anchor.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import request from 'supertest';
import { SignedXml } from 'xml-crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { postSamlRequest, redirectEncoded, postEncoded } from '../http/saml-flow.js';
import { asksSignIn, type Agent } from '../http/sign-in-flow.js';
import { readAutopost } from '../protocols/wsfed/autopost.js';
import { FABRIKAM_ISSUER, immutableIdOf, PASSWORD, TENANT_USERS, writeTenantUsers } from '../protocols/wsfed/tenant.js';
import type { EntraTenant } from './login-srf.js';
import { LOGIN_SRF, validateSamlLoginSrfPost, type EntraSamlRequest } from './saml-login-srf.js';

const BASE = 'http://127.0.0.1:8080';
const DOMAINS = ['contoso.test', { name: 'fabrikam.test', issuerUri: FABRIKAM_ISSUER }];
const CONTOSO_ISSUER = 'http://contoso.test/adfs/services/trust/';
/** In contoso.test, but with no objectGuid: no ImmutableID to send. */
const NOMAD = { login: 'nomad@contoso.test', password: PASSWORD };
const credentials = (user: keyof typeof TENANT_USERS) => ({ login: TENANT_USERS[user].login, password: PASSWORD });

/** Entra's "OrgID" signing key (§2.2): a certificate Entra publishes in its SAML metadata, identified by SKI. */
function orgIdKeyPair(): { key: string; certPem: string; ski: string } {
  const out = execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=MicrosoftOnline', '-keyout', '-', '-out', '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(out)![0];
  // RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (the PKCS#1 RSAPublicKey).
  const publicKey = new X509Certificate(certPem).publicKey.export({ type: 'pkcs1', format: 'der' });
  return { key: /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n/.exec(out)![0], certPem, ski: createHash('sha1').update(publicKey).digest('base64') };
}
const ORG_ID = orgIdKeyPair();

/** §2.2's sample, with a fresh ID and instant; `destination` as Entra adds it to signed requests. */
function entraAuthnRequest(id: string, destination?: string): string {
  return `<samlp:AuthnRequest ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}"${destination ? ` Destination="${destination}"` : ''}
    xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">
  <Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">urn:federation:MicrosoftOnline</Issuer>
  <samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"/>
</samlp:AuthnRequest>`;
}

/** Signed as Entra signs (§2.2): default-namespace Signature after Issuer, exc-c14n, rsa-sha1/sha1, SKI + KeyName. */
function signAsEntra(xml: string): string {
  const signed = new SignedXml({
    privateKey: ORG_ID.key,
    signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    getKeyInfoContent: () => `<X509Data><X509SKI>${ORG_ID.ski}</X509SKI></X509Data><KeyName>MicrosoftOnline</KeyName>`,
  });
  signed.addReference({
    xpath: "/*[local-name()='AuthnRequest']",
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: 'http://www.w3.org/2000/09/xmldsig#sha1',
  });
  signed.computeSignature(xml, { location: { reference: "/*/*[local-name()='Issuer']", action: 'after' } });
  return signed.getSignedXml();
}

/** A users file of the tenant plus NOMAD. */
async function tenantUsersFile(): Promise<string> {
  const path = await writeTenantUsers();
  const text = readFileSync(path, 'utf8');
  const hash = /passwordHash: "([^"]+)"/.exec(text)![1]!;
  writeFileSync(path, text.replace('groups:', `  - username: nomad\n    passwordHash: "${hash}"\n    userPrincipalName: ${NOMAD.login}\n    displayName: nomad\ngroups:`));
  return path;
}

let unsignedApp: TestApp;
let signedApp: TestApp;
let tenant: EntraTenant;

beforeAll(async () => {
  const directory = { type: 'file', path: await tenantUsersFile() };
  unsignedApp = await startTestApp({ directory, relyingParties: [{ protocol: 'saml', profile: 'entra', domains: DOMAINS }] });
  // isSignedAuthenticationRequestRequired = true: the OrgID certificate configured, signatures required.
  signedApp = await startTestApp({ directory, relyingParties: [{ protocol: 'saml', profile: 'entra', domains: DOMAINS, signingCertificates: [ORG_ID.certPem], requireSignedRequests: true }] });
  tenant = tenantOf(unsignedApp);
});

/** What Graph's internalDomainFederation holds for each domain (§5.1): issuerUri and fedgate's certificate. */
function tenantOf(t: TestApp): EntraTenant {
  const signingCertificate = t.services.keys.current.certificateBase64;
  return {
    domains: [
      { name: 'contoso.test', issuerUri: CONTOSO_ISSUER, signingCertificate },
      { name: 'fabrikam.test', issuerUri: FABRIKAM_ISSUER, signingCertificate },
    ],
    users: Object.values(TENANT_USERS).map((u) => ({ upn: u.login, immutableId: immutableIdOf(u.guid) })),
  };
}

const noForm = (html: string) => {
  expect(html).not.toContain('id="autopost"');
  expect(html).not.toContain('SAMLResponse');
};

async function signInThroughEntra(t: TestApp, user: keyof typeof TENANT_USERS, xml: string, options: { path?: string; relayState?: string } = {}) {
  const agent = request.agent(t.app);
  const fields = { SAMLRequest: postEncoded(xml), ...(options.relayState !== undefined ? { RelayState: options.relayState } : {}) };
  const res = await postSamlRequest(agent, fields, credentials(user), options.path);
  expect(res.status, res.text.slice(0, 400)).toBe(200);
  return { agent, form: readAutopost(res.text) };
}

describe('Entra ID over SAML 2.0: the sample AuthnRequests of §2.2 get responses login.srf accepts (§2.3)', () => {
  it('unsigned POST, RelayState echoed: alice@contoso.test with contoso\'s issuer, NameID = ImmutableID, IDPEmail = UPN', async () => {
    const entra: EntraSamlRequest = { id: `_${randomUUID()}`, relayState: 'estsredirect=2&estsrequest=rQIIAX1Sz2vTUB' };
    const { form } = await signInThroughEntra(unsignedApp, 'alice', entraAuthnRequest(entra.id), { relayState: entra.relayState! });
    const verdict = validateSamlLoginSrfPost(form, tenant, entra);
    expect(verdict.errors).toEqual([]);
    expect(verdict.user).toEqual({ upn: 'alice@contoso.test', immutableId: immutableIdOf(TENANT_USERS.alice.guid) });
    expect(verdict.claims).toMatchObject({ issuer: CONTOSO_ISSUER, mfa: false, attributes: { IDPEmail: ['alice@contoso.test'] },
      authenticationMethod: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport' });
  });

  it('signed POST (RSA-SHA1, X509SKI + KeyName, no certificate) with Destination: a sub-domain user gets the parent domain\'s issuer', async () => {
    const entra: EntraSamlRequest = { id: `_${randomUUID()}` };
    const xml = signAsEntra(entraAuthnRequest(entra.id, `${BASE}/saml/sso`));
    // The shape Entra sends: no certificate, the key named by SKI and KeyName.
    expect(xml).toMatch(/<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">.*<SignatureMethod Algorithm="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#rsa-sha1"\/>/s);
    expect(xml).toContain(`<KeyInfo><X509Data><X509SKI>${ORG_ID.ski}</X509SKI></X509Data><KeyName>MicrosoftOnline</KeyName></KeyInfo>`);
    expect(xml).not.toContain('X509Certificate');
    const { form } = await signInThroughEntra(signedApp, 'sam', xml);
    const verdict = validateSamlLoginSrfPost(form, tenantOf(signedApp), entra);
    expect(verdict.errors).toEqual([]);
    expect(verdict.user?.upn).toBe('sam@sales.contoso.test');
    expect(verdict.claims?.issuer).toBe(CONTOSO_ISSUER);
  });

  it('signed POST to AD FS\'s /adfs/ls/: the second federated domain gets its own issuer', async () => {
    const entra: EntraSamlRequest = { id: `_${randomUUID()}`, relayState: 'ctx-fabrikam' };
    const xml = signAsEntra(entraAuthnRequest(entra.id, `${BASE}/adfs/ls/`));
    const { form } = await signInThroughEntra(signedApp, 'fred', xml, { path: '/adfs/ls/', relayState: entra.relayState! });
    const verdict = validateSamlLoginSrfPost(form, tenantOf(signedApp), entra);
    expect(verdict.errors).toEqual([]);
    expect(verdict.claims?.issuer).toBe(FABRIKAM_ISSUER);
  });

  it('when signatures are required, the same request unsigned (or signed by another key) gets the error page', async () => {
    const unsigned = await request(signedApp.app).post('/saml/sso').type('form').send({ SAMLRequest: postEncoded(entraAuthnRequest(`_${randomUUID()}`, `${BASE}/saml/sso`)) });
    expect(unsigned.status).toBe(400);
    noForm(unsigned.text);
    const foreign = signAsEntra(entraAuthnRequest(`_${randomUUID()}`, `${BASE}/saml/sso`));
    // The unsigned app has no OrgID certificate: a signature it cannot check is refused, not ignored (and not a 500).
    const unverifiable = await request(unsignedApp.app).post('/saml/sso').type('form').send({ SAMLRequest: postEncoded(foreign) });
    expect(unverifiable.status).toBe(400);
    noForm(unverifiable.text);
  });

  it('a user outside the federated domains gets the error page, nothing is posted to login.srf', async () => {
    const res = await postSamlRequest(request.agent(unsignedApp.app), { SAMLRequest: postEncoded(entraAuthnRequest(`_${randomUUID()}`)) }, credentials('olga'));
    expect(res.status).toBe(400);
    noForm(res.text);
    expect(res.text).not.toContain(LOGIN_SRF);
  });

  it('a user without an ImmutableID gets the error page (a directory problem, 500 as for WS-Fed), nothing is posted', async () => {
    const res = await postSamlRequest(request.agent(unsignedApp.app), { SAMLRequest: postEncoded(entraAuthnRequest(`_${randomUUID()}`)) }, NOMAD);
    expect(res.status).toBe(500);
    noForm(res.text);
    expect(unsignedApp.logText()).toContain('has no source anchor');
  });

  it('the stand-in is not a rubber stamp: a changed NameID, another RelayState or another request ID are refused', async () => {
    const entra: EntraSamlRequest = { id: `_${randomUUID()}`, relayState: 'r1' };
    const { form } = await signInThroughEntra(unsignedApp, 'alice', entraAuthnRequest(entra.id), { relayState: 'r1' });
    const xml = Buffer.from(form.fields.SAMLResponse!, 'base64').toString('utf8');
    const forged = { ...form, fields: { ...form.fields, SAMLResponse: postEncoded(xml.replace(immutableIdOf(TENANT_USERS.alice.guid), immutableIdOf(TENANT_USERS.fred.guid))) } };
    expect(validateSamlLoginSrfPost(forged, tenant, entra).errors.map((e) => e.code)).toEqual(['AADSTS50006']);
    expect(validateSamlLoginSrfPost(form, tenant, { ...entra, relayState: 'r2' }).errors.map((e) => e.code)).toEqual(['RELAYSTATE_MISMATCH']);
    expect(validateSamlLoginSrfPost(form, tenant, { ...entra, id: '_other' }).errors.map((e) => e.code)).toEqual(['IN_RESPONSE_TO', 'IN_RESPONSE_TO']);
  });
});

describe('Entra\'s sign-out (§2.5): an unsigned LogoutRequest by the Redirect binding', () => {
  const logoutRequest = (nameId: string) => `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_${randomUUID()}" Version="2.0" IssueInstant="${new Date().toISOString()}"><Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">urn:federation:MicrosoftOnline</Issuer><NameID xmlns="urn:oasis:names:tc:SAML:2.0:assertion" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${nameId}</NameID></samlp:LogoutRequest>`;

  /** `next`: an AuthnRequest the app accepts, to see that the person must sign in again. */
  async function signOutThroughEntra(t: TestApp, agent: Agent, next: () => string) {
    const res = await agent.get(`/saml/slo?SAMLRequest=${encodeURIComponent(redirectEncoded(logoutRequest(immutableIdOf(TENANT_USERS.alice.guid))))}`);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    noForm(res.text);
    // Signed out: the next AuthnRequest asks for the password again (by POST: /login for the form).
    const again = await agent.post('/saml/sso').type('form').send({ SAMLRequest: postEncoded(next()) });
    expect(asksSignIn(again), `the sign-in form or the way to it, got ${again.status}`).toBe(true);
    noForm(again.text);
    expect(t.audits().some((e) => String(e.type).startsWith('signout'))).toBe(true);
  }

  it('is accepted and ends the session', async () => {
    const { agent } = await signInThroughEntra(unsignedApp, 'alice', entraAuthnRequest(`_${randomUUID()}`));
    await signOutThroughEntra(unsignedApp, agent, () => entraAuthnRequest(`_${randomUUID()}`));
  });

  it('is accepted even when AuthnRequests must be signed (Entra never signs its sign-out)', async () => {
    const signed = () => signAsEntra(entraAuthnRequest(`_${randomUUID()}`, `${BASE}/saml/sso`));
    const { agent } = await signInThroughEntra(signedApp, 'alice', signed());
    await signOutThroughEntra(signedApp, agent, signed);
  });
});
