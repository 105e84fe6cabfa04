import { beforeAll, describe, expect, it } from 'vitest';
import { SAML_STATUS } from '../../../src/protocols/saml/saml-constants.js';
import { startTestApp, type TestApp } from '../../harness/app.js';
import { hiddenField, isSignInForm } from '../../http/sign-in-flow.js';
import { readAutopost } from '../wsfed/autopost.js';
import { authorizeRedirect, expectAccepted, expectNothingSecretLogged, samlSignIn, samlSp, send, SP_CERT, spClient } from './sp-client.js';
import { expectSessionEnded, logoutResponseTo, postLogoutRequest, signInToEach, walkLogout, type SignedInBrowser } from './slo-walk.js';

/**
 * SAML single logout through the real app, node-saml as every SP: an SP's LogoutRequest (Redirect
 * and POST) ends the session, every other SP of the session is sent a LogoutRequest it accepts (its
 * own NameID and SessionIndex) and answers, WS-Fed applications get their cleanup frame, and the SP
 * that asked gets a LogoutResponse it accepts: Success, or PartialLogout when one could not be told.
 * fedgate's own sign-out page and wsignout1.0 walk the same way.
 */
const signing = { signingCertificates: [SP_CERT] };
const A = samlSp('slo-a', signing);
const B = samlSp('slo-b', signing);
const POST_SP = samlSp('slo-post', { ...signing, singleLogoutBinding: 'post' });
const MUTE = samlSp('slo-mute', { ...signing, singleLogoutUrl: undefined });
const WSFED = { protocol: 'wsfed', identifier: 'urn:slo:wsfed-app', replyUrls: ['https://wsfed-app.example.org/signin?x=1'] };
const WSFED_CLEANUP = 'https://wsfed-app.example.org/signin?wa=wsignoutcleanup1.0';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ relyingParties: [A.config, B.config, POST_SP.config, MUTE.config, WSFED] });
});

const SUCCESS = [SAML_STATUS.success];
const PARTIAL = [SAML_STATUS.success, SAML_STATUS.partialLogout];

/** Starts the logout at SP A over the Redirect binding (node-saml signs the query). */
async function logoutFromA(signedIn: SignedInBrowser, relayState = 'after-logout') {
  const a = signedIn.participants[0]!;
  const url = await a.sp.getLogoutUrlAsync(a.profile, relayState, {});
  expect(url).toMatch(/[?&]Signature=/);
  return send(signedIn.browser, url);
}

/** The browser also signs in to the WS-Fed application (single sign-on, no page). */
async function alsoWsfed(signedIn: SignedInBrowser): Promise<void> {
  const res = await signedIn.browser.get(`/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(WSFED.identifier)}`);
  expect(res.status, res.text).toBe(200);
  expect(isSignInForm(res), 'answered by single sign-on, not the sign-in form').toBe(false);
  expect(readAutopost(res.text).action).toBe(WSFED.replyUrls[0]);
}

describe('SAML single logout started by an SP', () => {
  it('Redirect, signed: the other SP is told (its NameID and SessionIndex) and answers; the SP that asked gets Success; the session is over', async () => {
    const signedIn = await signInToEach(t, [A, B]);
    const [, b] = signedIn.participants;
    // No space: node-saml signs a space as %20 but sends it as + (its Redirect signature would not verify; fedgate checks the octets sent).
    const relayState = 'back/to-A?x=1&y=ü';
    const walk = await walkLogout(signedIn.browser, await logoutFromA(signedIn, relayState), signedIn.participants);
    expect([...walk.told.keys()]).toEqual([B.entityId]);
    const toldB = walk.told.get(B.entityId)!;
    expect(toldB.nameID).toBe(b!.profile.nameID);
    expect(toldB.nameIDFormat).toBe(b!.profile.nameIDFormat);
    expect(toldB.sessionIndex).toBe(b!.profile.sessionIndex);
    expect(await logoutResponseTo(signedIn.participants[0]!, walk.final)).toEqual({ codes: SUCCESS, relayState });
    await expectSessionEnded(t, signedIn);
  });

  it('POST, signed enveloped: an SP whose logout binding is POST gets an auto-posted signed LogoutRequest', async () => {
    const signedIn = await signInToEach(t, [A, POST_SP]);
    const res = await signedIn.browser.post('/saml/slo').type('form').send(await postLogoutRequest(signedIn.participants[0]!, 'posted'));
    const walk = await walkLogout(signedIn.browser, res, signedIn.participants);
    expect(walk.told.get(POST_SP.entityId)?.nameID).toBe(signedIn.participants[1]!.profile.nameID);
    expect(await logoutResponseTo(signedIn.participants[0]!, walk.final)).toEqual({ codes: SUCCESS, relayState: 'posted' });
    await expectSessionEnded(t, signedIn);
  });

  it('an SP answering Responder: PartialLogout', async () => {
    const signedIn = await signInToEach(t, [A, B]);
    const walk = await walkLogout(signedIn.browser, await logoutFromA(signedIn), signedIn.participants, [B.entityId]);
    expect(walk.told.has(B.entityId)).toBe(true);
    expect((await logoutResponseTo(signedIn.participants[0]!, walk.final)).codes).toEqual(PARTIAL);
    await expectSessionEnded(t, signedIn);
  });

  it('an SP with no single logout URL cannot be told: PartialLogout, the others still told', async () => {
    const signedIn = await signInToEach(t, [A, MUTE, B]);
    const walk = await walkLogout(signedIn.browser, await logoutFromA(signedIn), signedIn.participants);
    expect([...walk.told.keys()]).toEqual([B.entityId]);
    expect((await logoutResponseTo(signedIn.participants[0]!, walk.final)).codes).toEqual(PARTIAL);
    await expectSessionEnded(t, signedIn);
  });

  it('a WS-Fed application of the session gets its wsignoutcleanup1.0 frame before the SP is answered', async () => {
    const signedIn = await signInToEach(t, [A, B]);
    await alsoWsfed(signedIn);
    const walk = await walkLogout(signedIn.browser, await logoutFromA(signedIn), signedIn.participants);
    expect(walk.told.has(B.entityId)).toBe(true);
    const page = walk.final;
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<iframe class="cleanup" src="${WSFED_CLEANUP.replace('&', '&amp;')}"`);
    expect(String(page.headers['content-security-policy'])).toContain(`frame-src ${WSFED_CLEANUP}`);
    const next = hiddenLink(page.text);
    expect(next).toMatch(/^\/saml\/slo\/continue\?run=/);
    expect((await logoutResponseTo(signedIn.participants[0]!, await signedIn.browser.get(next))).codes).toEqual(SUCCESS);
    await expectSessionEnded(t, signedIn);
  });
});

describe('SAML single logout after a re-authentication', () => {
  // A sign-in with a session already present (ForceAuthn here; wfresh=0 and prompt=login likewise)
  // starts a new session that continues the same person's sign-on (SsoSession.ssoId): the SPs
  // signed in before are still on its list, and keep their SessionIndex.
  it('SPs signed in before a ForceAuthn are still told at logout', async () => {
    const signedIn = await signInToEach(t, [A, B]);
    const forced = spClient(t, A, { forceAuthn: true });
    const again = await samlSignIn(signedIn.browser, await authorizeRedirect(forced));
    expect(again.loginShown).toBe(true);
    const a = { def: A, sp: forced, profile: await expectAccepted(t, forced, again.form) };
    const walk = await walkLogout(signedIn.browser, await send(signedIn.browser, await forced.getLogoutUrlAsync(a.profile, '', {})), [a, signedIn.participants[1]!]);
    expect(walk.told.has(B.entityId)).toBe(true);
  });
});

describe('SAML single logout started at fedgate', () => {
  it('the sign-out page (POST with CSRF) walks every SAML SP, then shows the cleanup frames', async () => {
    const signedIn = await signInToEach(t, [A, B]);
    await alsoWsfed(signedIn);
    const form = await signedIn.browser.get('/logout');
    const res = await signedIn.browser.post('/logout').type('form').send({ csrf: hiddenField(form.text, 'csrf') });
    const walk = await walkLogout(signedIn.browser, res, signedIn.participants);
    expect([...walk.told.keys()].sort()).toEqual([A.entityId, B.entityId]);
    for (const p of signedIn.participants) expect(walk.told.get(p.def.entityId)?.nameID).toBe(p.profile.nameID);
    expect(walk.final.status).toBe(200);
    expect(walk.final.text).toContain(`src="${WSFED_CLEANUP.replace('&', '&amp;')}"`);
    await expectSessionEnded(t, signedIn);
  });

  it('wsignout1.0 walks every SAML SP and ends on the signed-out page', async () => {
    const signedIn = await signInToEach(t, [A, B]);
    const walk = await walkLogout(signedIn.browser, await signedIn.browser.get('/adfs/ls/?wa=wsignout1.0'), signedIn.participants);
    expect([...walk.told.keys()].sort()).toEqual([A.entityId, B.entityId]);
    expect(walk.final.status).toBe(200);
    expect(walk.final.text).not.toContain('autopost');
    await expectSessionEnded(t, signedIn);
  });
});

it('logged no SAML message, assertion, key or password (every test above ran first)', () => expectNothingSecretLogged(t));

/** The Continue link of the cleanup page. */
function hiddenLink(html: string): string {
  const m = /<a class="button" id="continue" href="([^"]+)"/.exec(html);
  expect(m, 'a Continue link').not.toBeNull();
  return m![1]!.replace(/&amp;/g, '&');
}
