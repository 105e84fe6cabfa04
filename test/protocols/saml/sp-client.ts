/**
 * An independent SAML 2.0 service provider (@node-saml/node-saml) pointed at a started test app,
 * and a browser (supertest agent) walked through a whole sign-in: the SP's request → the sign-in
 * page → credentials with CSRF → resume → the auto-post form to the ACS. The SP's signing and
 * encryption key is the "other" fixture key (never the IdP's).
 */
import { inflateRawSync } from 'node:zlib';
import { expect } from 'vitest';
import { SAML, ValidateInResponseTo, type SamlConfig } from '@node-saml/node-saml';
import type { TestApp } from '../../harness/app.js';
import { hiddenField, location, type Agent } from '../../http/sign-in-flow.js';
import { otherKey } from '../../xml/signature-oracles.js';
import { readAutopost, type PostedForm } from '../wsfed/autopost.js';

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
  const fields = await sp.getAuthorizeMessageAsync(relayState, undefined, {});
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
}

/**
 * Sends the SP's request and, when fedgate asks for the sign-in page, signs in with `user`, then
 * follows resume to the auto-post page. Fails the test on anything else (an error page).
 */
export async function samlSignIn(agent: Agent, message: SpMessage, user: { login: string; password: string } = ALICE): Promise<SamlSignInResult> {
  const started = await send(agent, message);
  if (started.status === 200) return { form: readAutopost(started.text), html: started.text, loginShown: false };
  expect(started.status, started.text).toBe(303);
  expect(location(started)).toMatch(/^\/login\?pending=/);
  const page = await agent.get(location(started));
  expect(page.status).toBe(200);
  const posted = await agent.post('/login').type('form').send({
    pending: hiddenField(page.text, 'pending'), csrf: hiddenField(page.text, 'csrf'), UserName: user.login, Password: user.password,
  });
  expect(posted.status, posted.text).toBe(303);
  const resumed = await agent.get(location(posted));
  expect(resumed.status, resumed.text).toBe(200);
  return { form: readAutopost(resumed.text), html: resumed.text, loginShown: true };
}
