/**
 * An independent SAML 2.0 service provider (@node-saml/node-saml) pointed at a started test app,
 * and a browser (supertest agent) walked through a whole sign-in: the SP's request → the sign-in
 * page (the AuthnRequest's answer) → credentials with CSRF → the auto-post form to the ACS. The SP's signing and
 * encryption key is the "other" fixture key (never the IdP's).
 */
import { inflateRawSync } from 'node:zlib';
import { expect } from 'vitest';
import { SAML, ValidateInResponseTo, type Profile, type SamlConfig } from '@node-saml/node-saml';
import { federationIdentifier } from '../../../src/config/schema.js';
import type { TestApp } from '../../harness/app.js';
import { asksSignIn, formOf, location, sessionSetCookie, type Agent } from '../../http/sign-in-flow.js';
import { otherKey } from '../../xml/signature-oracles.js';
import { readAutopost, type PostedForm } from '../wsfed/autopost.js';
import { xmlsec1Decrypt, xmlsec1VerifySaml2 } from './writer-fixtures.js';

export const ALICE = { login: 'alice@demo.fedgate.test', password: 'Demo-alice-1' } as const;

/** The SP's private key (PEM) and certificate (base64 DER): request signing and assertion encryption. */
export const SP_KEY_PEM = otherKey.key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
export const SP_CERT = otherKey.key.certificateBase64;

export const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

export interface SpDefinition {
  readonly entityId: string;
  readonly acs: string;
  readonly slo: string;
  /** The relyingParties entry (inline settings, no metadata). */
  readonly config: Record<string, unknown>;
}

/** An SP at https://{name}.example.org; `settings` override or add relyingParties keys. */
export function samlSp(name: string, settings: Record<string, unknown> = {}): SpDefinition {
  const origin = `https://${name}.example.org`;
  const entityId = `${origin}/saml`;
  const acs = `${origin}/saml/acs`;
  const slo = `${origin}/saml/slo`;
  return { entityId, acs, slo, config: { protocol: 'saml', identifier: entityId, replyUrls: [acs], singleLogoutUrl: slo, ...settings } };
}

/**
 * node-saml configured as this SP against the app: it checks every Response (assertion signed by
 * the app's current key, audience, recipient, InResponseTo of a request it sent, time bounds).
 */
export function spClient(t: TestApp, sp: SpDefinition, options: Partial<SamlConfig> = {}): SAML {
  const base = t.config.server.baseUrl;
  return new SAML({
    entryPoint: `${base}/saml/sso`,
    logoutUrl: `${base}/saml/slo`,
    idpCert: t.services.keys.current.certificateBase64,
    idpIssuer: federationIdentifier(t.config),
    issuer: sp.entityId,
    callbackUrl: sp.acs,
    logoutCallbackUrl: sp.slo,
    audience: sp.entityId,
    identifierFormat: PERSISTENT,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: ValidateInResponseTo.always,
    signatureAlgorithm: 'sha256',
    privateKey: SP_KEY_PEM,
    decryptionPvk: SP_KEY_PEM,
    // node-saml's default digest is SHA-1, which fedgate refuses unless the SP is allowed it.
    digestAlgorithm: 'sha256',
    ...options,
  });
}

/** The same SP without a signing key: its requests go unsigned. */
export function unsignedSpClient(t: TestApp, sp: SpDefinition, options: Partial<SamlConfig> = {}): SAML {
  return spClient(t, sp, { privateKey: undefined, ...options });
}

/** What the browser sends first: a Redirect-binding URL (GET) or a POST-binding form. */
export type SpMessage = string | PostedForm;

/** The path and query of an absolute URL on the app (supertest takes paths). */
export function pathOf(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

export async function authorizeRedirect(sp: SAML, relayState = ''): Promise<string> {
  return sp.getAuthorizeUrlAsync(relayState, undefined, {});
}

/** The POST binding: node-saml's form fields (signed enveloped when the SP has a key) to entryPoint. */
export async function authorizePost(sp: SAML, relayState = ''): Promise<PostedForm> {
  // The POST binding carries the XML base64-encoded only (bindings §3.5.4); node-saml DEFLATEs it
  // unless told not to, and the same option would stop it DEFLATEing Redirect URLs.
  sp.options.skipRequestCompression = true;
  const fields = await sp.getAuthorizeMessageAsync(relayState, undefined, {}).finally(() => { sp.options.skipRequestCompression = false; });
  return { action: sp.options.entryPoint!, fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])) };
}

/** The XML of a Redirect-binding (DEFLATE) or POST-binding (base64) SAML message. */
export function messageXml(message: SpMessage, parameter: 'SAMLRequest' | 'SAMLResponse' = 'SAMLRequest'): string {
  if (typeof message === 'string') {
    const value = new URL(message).searchParams.get(parameter);
    if (!value) throw new Error(`no ${parameter} in ${message}`);
    return inflateRawSync(Buffer.from(value, 'base64')).toString('utf8');
  }
  const value = message.fields[parameter];
  if (!value) throw new Error(`no ${parameter} field`);
  return Buffer.from(value, 'base64').toString('utf8');
}

/** The ID attribute of a message (a request's ID, to compare with InResponseTo). */
export function messageId(message: SpMessage): string {
  const m = /<samlp?:\w+[^>]*\sID="([^"]+)"/.exec(messageXml(message));
  if (!m) throw new Error('no ID on the message');
  return m[1]!;
}

/** Sends the SP's message from the browser. */
export function send(agent: Agent, message: SpMessage) {
  return typeof message === 'string' ? agent.get(pathOf(message)) : agent.post(pathOf(message.action)).type('form').send(message.fields);
}

export interface SamlSignInResult {
  /** The auto-post form the browser would post (to the ACS). */
  readonly form: PostedForm;
  readonly html: string;
  /** Whether the sign-in page was shown (false: single sign-on answered at once). */
  readonly loginShown: boolean;
  /** The session cookie (Name=value) set by the sign-in page, when it was shown. */
  readonly sessionCookie: string | undefined;
}

/**
 * Sends the SP's request and, when fedgate asks for the sign-in page, signs in with `user`; the
 * POST's answer is the auto-post page. Fails the test on anything else (an error page).
 */
export async function samlSignIn(agent: Agent, message: SpMessage, user: { login: string; password: string } = ALICE): Promise<SamlSignInResult> {
  const started = await send(agent, message);
  if (typeof message === 'string') {
    // Redirect binding: answered with the form itself, or by single sign-on.
    expect(started.status, started.text).toBe(200);
  } else if (asksSignIn(started)) {
    // POST binding (cross-site, without the SameSite=Lax CSRF cookie): the form is at /login.
    expect(started.status, started.text).toBe(303);
  }
  if (!asksSignIn(started)) return { form: readAutopost(started.text), html: started.text, loginShown: false, sessionCookie: undefined };
  // The form's POST is answered with the auto-post page.
  const { pending, csrf } = await formOf(agent, started);
  const posted = await agent.post('/login').type('form').send({ pending, csrf, UserName: user.login, Password: user.password });
  expect(posted.status, posted.text).toBe(200);
  return { form: readAutopost(posted.text), html: posted.text, loginShown: true, sessionCookie: sessionSetCookie(posted)?.split(';')[0] };
}

/** The SAML Response (or LogoutResponse, LogoutRequest) XML of a posted form. */
export function postedXml(form: PostedForm, parameter: 'SAMLRequest' | 'SAMLResponse' = 'SAMLResponse'): string {
  return messageXml(form, parameter);
}

/** The StatusCode values of a Response, outer first. */
export function statusCodes(xml: string): string[] {
  return [...xml.matchAll(/<samlp?:StatusCode Value="([^"]+)"/g)].map((m) => m[1]!);
}

/**
 * The SP accepts the posted Response (node-saml: signature, audience, recipient, InResponseTo,
 * time), and xmlsec1 verifies the assertion's signature with the app's certificate (decrypted
 * first, with the SP's key, when encrypted). Returns node-saml's profile.
 */
export async function expectAccepted(t: TestApp, sp: SAML, form: PostedForm): Promise<Profile> {
  const { profile, loggedOut } = await sp.validatePostResponseAsync(form.fields);
  expect(loggedOut).toBe(false);
  expect(profile).not.toBeNull();
  let xml = postedXml(form);
  if (xml.includes('EncryptedAssertion')) {
    const decrypted = xmlsec1Decrypt(xml);
    expect(decrypted.ok, decrypted.output).toBe(true);
    xml = decrypted.output;
  }
  const verified = xmlsec1VerifySaml2(xml, 'Assertion', t.services.keys.current.certificate.toString());
  expect(verified.ok, verified.output).toBe(true);
  return profile!;
}

/**
 * The error page, and nothing sent anywhere: no auto-post form, no SAML message in the body; the
 * log has the refusal under the request id the page shows.
 */
export function expectErrorPage(t: TestApp, res: { status: number; text: string; headers: Record<string, unknown> }, status = 400): void {
  expect(res.status, res.text).toBe(status);
  expect(res.text).not.toContain('autopost');
  expect(res.text).not.toMatch(/SAMLResponse|SAMLRequest/);
  const id = res.headers['x-request-id'];
  expect(typeof id).toBe('string');
  expect(res.text).toContain(String(id));
  const lines = t.logs().filter((l) => (l.req as { id?: string } | undefined)?.id === id);
  expect(lines.some((l) => typeof l.detail === 'string' && typeof l.code === 'string'), 'a log line with the refusal').toBe(true);
}

/** Nothing a log reader could replay or misuse: no SAML message, assertion, key or password. */
export function expectNothingSecretLogged(t: TestApp): void {
  const text = t.logText();
  expect(text.length).toBeGreaterThan(0);
  // Base64 of '<samlp:' and '<saml:' (POST bindings), query strings of the Redirect binding, the XML itself.
  for (const marker of ['PHNhbWxwO', 'PHNhbWw6', 'SAMLResponse=', 'SAMLRequest=', 'Signature=', '<saml', 'EncryptedData', 'X509Certificate', 'PRIVATE KEY', ALICE.password]) {
    expect(text, marker).not.toContain(marker);
  }
  const keyBody = t.services.keys.current.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64').slice(40, 80);
  expect(text).not.toContain(keyBody);
}
