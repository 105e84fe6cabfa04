import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { SamlStatusError } from '@node-saml/node-saml';
import { SAML_NAMEID_FORMAT, SAML_STATUS } from '../../../src/protocols/saml/saml-constants.js';
import { startTestApp, type TestApp } from '../../harness/app.js';
import { hiddenField, isSignInForm, type Agent } from '../../http/sign-in-flow.js';
import { readAutopost } from '../wsfed/autopost.js';
import {
  ALICE, authorizeRedirect, expectAccepted, expectErrorPage, expectNothingSecretLogged, messageId, PERSISTENT, postedXml, samlSignIn, samlSp, send, statusCodes,
  unsignedSpClient,
} from './sp-client.js';

/**
 * What an AuthnRequest can ask for, answered through the real app: single sign-on, ForceAuthn,
 * IsPassive, NameIDPolicy, RequestedAuthnContext, the ACS, the AD FS endpoint; and what is refused
 * with the error page (nothing posted): an unregistered ACS, a replayed request, an unknown SP.
 */
const ORIGIN = 'https://sp-a.example.org';
const A = samlSp('sp-a', { replyUrls: [`${ORIGIN}/saml/acs`, `${ORIGIN}/saml/acs2`] });

let t: TestApp;
/** A browser with a session (signed in to A once). */
let browser: Agent;
beforeAll(async () => {
  t = await startTestApp({ relyingParties: [A.config] });
  browser = request.agent(t.app);
  const sp = unsignedSpClient(t, A);
  await expectAccepted(t, sp, (await samlSignIn(browser, await authorizeRedirect(sp))).form);
});

/** Sends a request that must be answered at once (no sign-in page) and returns the posted form. */
async function answeredAtOnce(agent: Agent, url: string) {
  const res = await send(agent, url);
  expect(res.status, res.text).toBe(200);
  expect(isSignInForm(res), 'answered at once, not with the sign-in form').toBe(false);
  return readAutopost(res.text);
}

/** node-saml refuses the Response as a SAML status error; its StatusCodes. */
async function refusedWithStatus(sp: ReturnType<typeof unsignedSpClient>, form: ReturnType<typeof readAutopost>): Promise<string[]> {
  await expect(sp.validatePostResponseAsync(form.fields)).rejects.toBeInstanceOf(SamlStatusError);
  const xml = postedXml(form);
  expect(xml).not.toContain('Assertion');
  return statusCodes(xml);
}

describe('SAML single sign-on, ForceAuthn and IsPassive', () => {
  it('a second AuthnRequest with the session is answered without the sign-in page', async () => {
    const sp = unsignedSpClient(t, A);
    const url = await authorizeRedirect(sp);
    const form = await answeredAtOnce(browser, url);
    expect((await expectAccepted(t, sp, form)).inResponseTo).toBe(messageId(url));
  });

  it('ForceAuthn="true" shows the sign-in page again, then answers', async () => {
    const sp = unsignedSpClient(t, A, { forceAuthn: true });
    const url = await authorizeRedirect(sp);
    const result = await samlSignIn(browser, url);
    expect(result.loginShown).toBe(true);
    expect((await expectAccepted(t, sp, result.form)).inResponseTo).toBe(messageId(url));
  });

  it('IsPassive="true" without a session: Responder/NoPassive posted to the ACS; with one: the assertion', async () => {
    const sp = unsignedSpClient(t, A, { passive: true });
    const form = await answeredAtOnce(request.agent(t.app), await authorizeRedirect(sp, 'passive'));
    expect(form.action).toBe(A.acs);
    expect(form.fields.RelayState).toBe('passive');
    expect(statusCodes(postedXml(form))).toEqual([SAML_STATUS.responder, SAML_STATUS.noPassive]);
    // Status answers are signed, so node-saml takes NoPassive for what it is: "not signed in".
    expect(await sp.validatePostResponseAsync(form.fields)).toEqual({ profile: null, loggedOut: false });

    const url = await authorizeRedirect(sp);
    expect((await expectAccepted(t, sp, await answeredAtOnce(browser, url))).inResponseTo).toBe(messageId(url));
  });
});

describe('SAML NameIDPolicy', () => {
  it('transient: a fresh pairwise value; emailAddress: the email; unspecified: the SP\'s default (persistent)', async () => {
    const asked = async (format: string) => {
      const sp = unsignedSpClient(t, A, { identifierFormat: format });
      return expectAccepted(t, sp, await answeredAtOnce(browser, await authorizeRedirect(sp)));
    };
    const transient = await asked(SAML_NAMEID_FORMAT.transient);
    expect(transient.nameIDFormat).toBe(SAML_NAMEID_FORMAT.transient);
    expect(transient.nameID).toMatch(/^_[A-Za-z0-9_-]{43}$/);
    const email = await asked(SAML_NAMEID_FORMAT.emailAddress);
    expect([email.nameIDFormat, email.nameID]).toEqual([SAML_NAMEID_FORMAT.emailAddress, ALICE.login]);
    const unspecified = await asked(SAML_NAMEID_FORMAT.unspecified);
    const persistent = await asked(PERSISTENT);
    expect(unspecified.nameIDFormat).toBe(PERSISTENT);
    expect(unspecified.nameID).toBe(persistent.nameID);
  });

  it('an unsupported format: Requester/InvalidNameIDPolicy posted to the ACS', async () => {
    const sp = unsignedSpClient(t, A, { identifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName' });
    const form = await answeredAtOnce(request.agent(t.app), await authorizeRedirect(sp));
    expect(await refusedWithStatus(sp, form)).toEqual([SAML_STATUS.requester, SAML_STATUS.invalidNameIdPolicy]);
  });
});

describe('SAML RequestedAuthnContext', () => {
  it('exact PasswordProtectedTransport (node-saml\'s default) is met by the password', async () => {
    const sp = unsignedSpClient(t, A);
    const form = await answeredAtOnce(browser, await authorizeRedirect(sp));
    await expectAccepted(t, sp, form);
    expect(postedXml(form)).toContain('<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>');
  });

  for (const context of ['urn:oasis:names:tc:SAML:2.0:ac:classes:X509', 'http://schemas.microsoft.com/claims/multipleauthn']) {
    it(`exact ${context.split(/[:/]/).pop()}: Requester/NoAuthnContext, even with a session`, async () => {
      const sp = unsignedSpClient(t, A, { authnContext: [context] });
      const form = await answeredAtOnce(browser, await authorizeRedirect(sp));
      expect(await refusedWithStatus(sp, form)).toEqual([SAML_STATUS.requester, SAML_STATUS.noAuthnContext]);
    });
  }
});

describe('SAML ACS, endpoints and refusals', () => {
  it('the named ACS when registered; the default (first) ACS when none is named', async () => {
    const second = unsignedSpClient(t, A, { callbackUrl: `${ORIGIN}/saml/acs2` });
    const form = await answeredAtOnce(browser, await authorizeRedirect(second));
    expect(form.action).toBe(`${ORIGIN}/saml/acs2`);
    await expectAccepted(t, second, form);

    const unnamed = unsignedSpClient(t, A, { disableRequestAcsUrl: true });
    const url = await authorizeRedirect(unnamed);
    expect(url).not.toContain('AssertionConsumerServiceURL');
    const answered = await answeredAtOnce(browser, url);
    expect(answered.action).toBe(A.acs);
    await expectAccepted(t, unnamed, answered);
  });

  it('an unregistered ACS URL: the error page, nothing posted', async () => {
    const sp = unsignedSpClient(t, A, { callbackUrl: `${ORIGIN}/saml/acs/../evil` });
    expectErrorPage(t, await send(browser, await authorizeRedirect(sp)));
    expectErrorPage(t, await send(browser, await authorizeRedirect(unsignedSpClient(t, A, { callbackUrl: 'https://evil.example/saml/acs' }))));
  });

  it('AD FS\'s /adfs/ls/ answers the same request', async () => {
    const sp = unsignedSpClient(t, A, { entryPoint: `${t.config.server.baseUrl}/adfs/ls/` });
    const url = await authorizeRedirect(sp, 'adfs');
    expect(url).toContain('/adfs/ls/?SAMLRequest=');
    const result = await samlSignIn(request.agent(t.app), url);
    expect(result.form.fields.RelayState).toBe('adfs');
    expect((await expectAccepted(t, sp, result.form)).inResponseTo).toBe(messageId(url));
  });

  it('a replayed AuthnRequest (same ID) gets the error page', async () => {
    const url = await authorizeRedirect(unsignedSpClient(t, A));
    const first = await send(browser, url);
    expect(first.status).toBe(200);
    expect(isSignInForm(first), 'answered by single sign-on').toBe(false);
    readAutopost(first.text);
    expectErrorPage(t, await send(browser, url));
    // Also from another browser, before any sign-in.
    expectErrorPage(t, await send(request.agent(t.app), url));
  });

  it('an unknown issuer gets the error page', async () => {
    const res = await send(browser, await authorizeRedirect(unsignedSpClient(t, samlSp('sp-unknown'))));
    expectErrorPage(t, res);
    expect(res.text).not.toContain('sp-unknown');
  });

  it('a request whose sign-in is abandoned cannot be resumed by another browser', async () => {
    const started = await send(request.agent(t.app), await authorizeRedirect(unsignedSpClient(t, A)));
    expect(isSignInForm(started), 'the sign-in form').toBe(true);
    const pending = hiddenField(started.text, 'pending');
    expectErrorPage(t, await browser.get(`/saml/resume?pending=${encodeURIComponent(pending)}`));
  });
});

it('logged no SAML message, assertion, key or password (every test above ran first)', () => expectNothingSecretLogged(t));
