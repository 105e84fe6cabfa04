/**
 * The browser side of SAML single logout with node-saml SPs: sign one browser in to several SPs,
 * let an SP start a logout (Redirect or POST), and walk fedgate's messages to the other SPs, each
 * checked by that SP (signature, issuer, NotOnOrAfter) and answered as it would answer.
 */
import request from 'supertest';
import { expect } from 'vitest';
import { ValidateInResponseTo, type Profile, type SAML } from '@node-saml/node-saml';
import { signSamlPost } from '@node-saml/node-saml/lib/saml-post-signing.js';
import type { TestApp } from '../../harness/app.js';
import { isSignInForm, type Agent } from '../../http/sign-in-flow.js';
import { readAutopost } from '../wsfed/autopost.js';
import { authorizeRedirect, expectAccepted, messageXml, pathOf, samlSignIn, send, spClient, statusCodes, type SpDefinition } from './sp-client.js';

export interface Participant {
  readonly def: SpDefinition;
  readonly sp: SAML;
  /** What the SP learnt at sign-in (its NameID and SessionIndex). */
  readonly profile: Profile;
}

export interface SignedInBrowser {
  readonly browser: Agent;
  readonly participants: Participant[];
  /** The session cookie as set at sign-in (Name=value), to try it again after the logout. */
  readonly sessionCookie: string;
}

type HttpResponse = Awaited<ReturnType<typeof send>>;

/** One browser signed in to each SP in turn (the first with the sign-in page, the others by SSO). */
export async function signInToEach(t: TestApp, defs: readonly SpDefinition[]): Promise<SignedInBrowser> {
  const browser = request.agent(t.app);
  const participants: Participant[] = [];
  let sessionCookie: string | undefined;
  for (const def of defs) {
    const sp = spClient(t, def);
    const result = await samlSignIn(browser, await authorizeRedirect(sp));
    sessionCookie ??= result.sessionCookie;
    participants.push({ def, sp, profile: await expectAccepted(t, sp, result.form) });
  }
  expect(sessionCookie).toBeDefined();
  return { browser, participants, sessionCookie: sessionCookie! };
}

/** An SAML message fedgate sends through the browser: a Redirect-binding URL or an auto-post form. */
interface Outbound {
  readonly binding: 'redirect' | 'post';
  readonly action: string;
  readonly parameter: 'SAMLRequest' | 'SAMLResponse';
  readonly fields: Record<string, string>;
  /** The raw query of a Redirect (what its signature covers). */
  readonly rawQuery: string;
}

export function outbound(res: HttpResponse): Outbound | undefined {
  const target = res.headers.location;
  if (res.status === 303 && typeof target === 'string' && /[?&]SAML(Request|Response)=/.test(target)) {
    const url = new URL(target);
    const fields = Object.fromEntries(url.searchParams);
    return { binding: 'redirect', action: `${url.origin}${url.pathname}`, parameter: 'SAMLRequest' in fields ? 'SAMLRequest' : 'SAMLResponse', fields, rawQuery: url.search.slice(1) };
  }
  if (res.status === 200 && res.text.includes('id="autopost"')) {
    const form = readAutopost(res.text);
    return { binding: 'post', action: form.action, parameter: 'SAMLRequest' in form.fields ? 'SAMLRequest' : 'SAMLResponse', fields: form.fields, rawQuery: '' };
  }
  return undefined;
}

function outboundXml(message: Outbound): string {
  return messageXml(message.binding === 'redirect' ? `${message.action}?${message.rawQuery}` : message, message.parameter);
}

/** The SP checks a message from fedgate with node-saml; fedgate's Redirect messages must carry a query signature (node-saml would take them unsigned). */
async function receivedBy(sp: SAML, message: Outbound): Promise<{ profile: Profile | null; loggedOut: boolean }> {
  if (message.binding === 'redirect') {
    expect(message.fields.Signature, 'a signed Redirect message').toBeDefined();
    return sp.validateRedirectAsync(message.fields, message.rawQuery);
  }
  const xml = outboundXml(message);
  expect(xml).toContain('<ds:Signature');
  if (message.parameter === 'SAMLRequest') return sp.validatePostRequestAsync(message.fields);
  // node-saml checks a posted LogoutResponse's signature only: it looks for InResponseTo on a
  // Response root (and would miss it), and reads no status. Both are checked here instead.
  const inResponseTo = /^<samlp:LogoutResponse [^>]*InResponseTo="([^"]+)"/.exec(xml)?.[1];
  expect(inResponseTo && (await sp.cacheProvider.getAsync(inResponseTo)), 'InResponseTo names a LogoutRequest the SP sent').toBeTruthy();
  const configured = sp.options.validateInResponseTo;
  sp.options.validateInResponseTo = ValidateInResponseTo.ifPresent;
  try {
    return await sp.validatePostResponseAsync(message.fields);
  } finally {
    sp.options.validateInResponseTo = configured;
  }
}

export interface Walk {
  /** fedgate's last answer: the LogoutResponse to the initiator, or a page. */
  readonly final: HttpResponse;
  /** The LogoutRequests the other SPs received, by entityID, as node-saml read them. */
  readonly told: Map<string, Profile>;
}

/**
 * Follows fedgate's LogoutRequests from `first` on: each SP checks its request and answers (Success,
 * or Responder for the `failing` ones) through the browser, until fedgate answers something else.
 */
export async function walkLogout(browser: Agent, first: HttpResponse, participants: readonly Participant[], failing: readonly string[] = []): Promise<Walk> {
  const told = new Map<string, Profile>();
  let res = first;
  for (;;) {
    const message = outbound(res);
    const target = message?.parameter === 'SAMLRequest' ? participants.find((p) => p.def.slo === message.action) : undefined;
    if (!message || !target) return { final: res, told };
    expect(told.has(target.def.entityId), `${target.def.entityId} told twice`).toBe(false);
    const { profile, loggedOut } = await receivedBy(target.sp, message);
    expect(loggedOut).toBe(true);
    told.set(target.def.entityId, profile!);
    res = await send(browser, await target.sp.getLogoutResponseUrlAsync(profile!, '', {}, !failing.includes(target.def.entityId)));
  }
}

/** The initiator's LogoutResponse: node-saml accepts it (signature, issuer, InResponseTo); its StatusCodes. */
export async function logoutResponseTo(initiator: Participant, res: HttpResponse): Promise<{ codes: string[]; relayState: string | undefined }> {
  const message = outbound(res);
  expect(message, `a LogoutResponse, got ${res.status} ${res.text.slice(0, 300)}`).toBeDefined();
  expect(message!.parameter).toBe('SAMLResponse');
  expect(message!.action).toBe(initiator.def.slo);
  const { loggedOut } = await receivedBy(initiator.sp, message!);
  expect(loggedOut).toBe(true);
  return { codes: statusCodes(outboundXml(message!)), relayState: message!.fields.RelayState };
}

/** The initiator's LogoutRequest over the POST binding, signed enveloped by node-saml's signer. */
export async function postLogoutRequest(initiator: Participant, relayState: string): Promise<Record<string, string>> {
  const xml = await initiator.sp._generateLogoutRequest(initiator.profile);
  const { privateKey, signatureAlgorithm, digestAlgorithm } = initiator.sp.options;
  const signed = signSamlPost(xml, "/*[local-name(.)='LogoutRequest']", { privateKey: privateKey!, signatureAlgorithm, digestAlgorithm });
  return { SAMLRequest: Buffer.from(signed, 'utf8').toString('base64'), RelayState: relayState };
}

/** After the logout the old session cookie signs no one in: an AuthnRequest with it is answered with the sign-in form. */
export async function expectSessionEnded(t: TestApp, signedIn: SignedInBrowser): Promise<void> {
  const url = await authorizeRedirect(signedIn.participants[0]!.sp);
  const res = await request(t.app).get(pathOf(url)).set('Cookie', signedIn.sessionCookie);
  expect(isSignInForm(res), `the sign-in form, got ${res.status} ${res.text.slice(0, 300)}`).toBe(true);
  expect(res.text).not.toContain('id="autopost"');
}
