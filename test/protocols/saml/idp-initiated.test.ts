import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValidateInResponseTo } from '@node-saml/node-saml';
import { startTestApp, type TestApp } from '../../harness/app.js';
import { expectAccepted, expectErrorPage, expectNothingSecretLogged, postedXml, samlSignIn, samlSp, send, unsignedSpClient } from './sp-client.js';

/**
 * IdP-initiated (unsolicited) SSO at /saml/idp-initiated?sp=…: only to an SP that allows it, and
 * only with a RelayState the SP's own pages could be (a local path or its ACS origin), since many
 * SPs redirect to it after sign-in.
 */
const IDP = samlSp('sp-idp', { allowIdpInitiated: true, defaultRelayState: '/home' });
const CLOSED = samlSp('sp-closed');

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ relyingParties: [IDP.config, CLOSED.config] });
});

const link = (sp: string, relayState?: string) =>
  `${t.config.server.baseUrl}/saml/idp-initiated?${new URLSearchParams({ sp, ...(relayState === undefined ? {} : { RelayState: relayState }) }).toString()}`;

describe('SAML IdP-initiated sign-on', () => {
  it('posts an unsolicited Response node-saml accepts (InResponseTo checked only if present), with the link\'s RelayState', async () => {
    const sp = unsignedSpClient(t, IDP, { validateInResponseTo: ValidateInResponseTo.ifPresent });
    const { form } = await samlSignIn(request.agent(t.app), link(IDP.entityId, '/reports?year=2025'));
    expect(form.action).toBe(IDP.acs);
    expect(form.fields.RelayState).toBe('/reports?year=2025');
    expect(postedXml(form)).not.toContain('InResponseTo');
    const profile = await expectAccepted(t, sp, form);
    expect(profile.inResponseTo).toBeUndefined();
    // An SP that insists on InResponseTo refuses it: unsolicited responses are the SP's choice.
    await expect(unsignedSpClient(t, IDP).validatePostResponseAsync(form.fields)).rejects.toThrow(/InResponseTo/);
  });

  it('the SP\'s defaultRelayState when the link names none; a URL on the SP\'s ACS origin is passed on', async () => {
    const browser = request.agent(t.app);
    expect((await samlSignIn(browser, link(IDP.entityId))).form.fields.RelayState).toBe('/home');
    const own = 'https://sp-idp.example.org/dashboard';
    expect((await samlSignIn(browser, link(IDP.entityId, own))).form.fields.RelayState).toBe(own);
  });

  it('a foreign-origin, protocol-relative or scripted RelayState is refused with the error page', async () => {
    for (const relayState of ['https://evil.example/phish', '//evil.example/phish', 'javascript:alert(1)', 'https://sp-idp.example.org.evil.example/']) {
      expectErrorPage(t, await send(request.agent(t.app), link(IDP.entityId, relayState)));
    }
  });

  it('an SP that does not allow it, or an unknown one, gets the error page', async () => {
    expectErrorPage(t, await send(request.agent(t.app), link(CLOSED.entityId)));
    expectErrorPage(t, await send(request.agent(t.app), link('https://unknown.example.org/saml')));
    expectErrorPage(t, await request(t.app).get('/saml/idp-initiated'));
  });
});

it('logged no SAML message, assertion, key or password (every test above ran first)', () => expectNothingSecretLogged(t));
