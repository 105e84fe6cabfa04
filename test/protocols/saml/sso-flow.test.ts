import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../harness/app.js';
import { openLoginForm } from '../../http/sign-in-flow.js';
import {
  ALICE, authorizePost, authorizeRedirect, expectAccepted, expectErrorPage, expectNothingSecretLogged, messageId, messageXml, PERSISTENT, postedXml, samlSignIn, samlSp,
  send, SP_CERT, spClient, unsignedSpClient, type SpDefinition,
} from './sp-client.js';

/**
 * SP-initiated SAML 2.0 sign-in through the real app over HTTP, node-saml as the SP: unsigned and
 * signed requests (Redirect and POST bindings), plain and encrypted assertions. Every Response is
 * checked by node-saml and its assertion signature by xmlsec1.
 */
const UPN = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn';
const GROUPS = 'http://schemas.xmlsoap.org/claims/Group';
const A = samlSp('sp-a', { attributes: ['upn', { claim: 'email', name: 'mail', friendlyName: 'mail', nameFormat: 'basic' }, 'groups'] });
const B = samlSp('sp-b');
const SIGNED = samlSp('sp-signed', { signingCertificates: [SP_CERT], requireSignedRequests: true });
const GCM = samlSp('sp-gcm', { encryptionCertificate: SP_CERT });
const CBC = samlSp('sp-cbc', { encryptionCertificate: SP_CERT, encryptionAlgorithm: 'aes256-cbc' });

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ relyingParties: [A, B, SIGNED, GCM, CBC].map((sp) => sp.config) });
});

const agent = () => request.agent(t.app);
const attribute = (xml: string, name: string) => new RegExp(`<saml:SubjectConfirmationData[^>]*\\s${name}="([^"]*)"`).exec(xml)?.[1];

describe('SAML SP-initiated sign-in, unsigned request over the Redirect binding', () => {
  it('node-saml accepts the Response: persistent NameID, released attributes, SessionIndex, InResponseTo, RelayState, Destination and Recipient', async () => {
    const sp = unsignedSpClient(t, A);
    // Bytes a careless echo would mangle: reserved URL characters, non-ASCII, HTML specials.
    const relayState = 'https://sp-a.example.org/app?x=1&y=a+b%20c#frag ü€ "<q>\'';
    const url = await authorizeRedirect(sp, relayState);
    expect(url).not.toContain('Signature=');
    const { form, loginShown } = await samlSignIn(agent(), url);
    expect(loginShown).toBe(true);
    expect(form.action).toBe(A.acs);
    expect(Object.keys(form.fields)).toEqual(['SAMLResponse', 'RelayState']);
    expect(form.fields.RelayState).toBe(relayState);

    const profile = await expectAccepted(t, sp, form);
    expect(profile.inResponseTo).toBe(messageId(url));
    expect(profile.nameIDFormat).toBe(PERSISTENT);
    expect(profile.spNameQualifier).toBe(A.entityId);
    expect(profile.sessionIndex).toMatch(/^_[0-9a-f]{40}$/);
    // Exactly the release rules, in order, with their names.
    expect(profile.attributes).toEqual({ [UPN]: ALICE.login, mail: ALICE.login, [GROUPS]: ['engineers', 'staff'] });
    const xml = postedXml(form);
    expect(xml).toMatch(new RegExp(`<samlp:Response [^>]*Destination="${A.acs}"`));
    expect(attribute(xml, 'Recipient')).toBe(A.acs);
    expect(xml).toContain('<saml:Attribute FriendlyName="mail" Name="mail" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">');
  });

  it('the persistent NameID is pairwise: the same at the next sign-in, another for another SP', async () => {
    const signInTo = async (def: SpDefinition) => {
      const sp = unsignedSpClient(t, def);
      return expectAccepted(t, sp, (await samlSignIn(agent(), await authorizeRedirect(sp))).form);
    };
    const [a1, a2, b] = [await signInTo(A), await signInTo(A), await signInTo(B)];
    expect(a1.nameID).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a2.nameID).toBe(a1.nameID);
    expect(b.nameID).not.toBe(a1.nameID);
    // Default release: upn, email, name, givenname, surname, groups.
    expect(Object.keys(b.attributes!)).toHaveLength(6);
  });
});

describe('SAML signed requests (requireSignedRequests, the SP\'s signing certificate configured)', () => {
  it('Redirect binding: the query signature is checked and the request answered', async () => {
    const sp = spClient(t, SIGNED);
    const url = await authorizeRedirect(sp, 'signed-redirect');
    expect(url).toMatch(/[?&]SigAlg=.*&Signature=/);
    const { form } = await samlSignIn(agent(), url);
    expect(form.fields.RelayState).toBe('signed-redirect');
    expect((await expectAccepted(t, sp, form)).inResponseTo).toBe(messageId(url));
  });

  it('POST binding: the enveloped signature is checked and the request answered', async () => {
    const sp = spClient(t, SIGNED);
    const message = await authorizePost(sp, 'signed-post');
    expect(messageXml(message)).toContain('<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">');
    const { form } = await samlSignIn(agent(), message);
    expect(form.fields.RelayState).toBe('signed-post');
    expect((await expectAccepted(t, sp, form)).inResponseTo).toBe(messageId(message));
  });

  it('POST binding: sent to /login for the form, so the cross-site POST (no SameSite=Lax cookie) cannot replace the CSRF cookie another tab\'s form needs', async () => {
    const browser = agent();
    const { pending, csrf } = await openLoginForm(browser, '/signin'); // tab 1: the portal's form
    // Tab 2: an SP's page auto-posts an AuthnRequest; cross-site, the browser sends no Lax cookie.
    const posted = await send(request(t.app), await authorizePost(spClient(t, SIGNED), 'tab-2'));
    expect(posted.status).toBe(303);
    expect(posted.headers.location).toMatch(/^\/login\?pending=/);
    expect(String(posted.headers['set-cookie'] ?? '')).not.toContain('csrf');
    // Tab 1's form still signs in.
    const signedIn = await browser.post('/login').type('form').send({ pending, csrf, UserName: ALICE.login, Password: ALICE.password });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.location).toBe('/');
  });

  it('an unsigned request is refused with the error page, over either binding', async () => {
    const sp = unsignedSpClient(t, SIGNED);
    expectErrorPage(t, await send(agent(), await authorizeRedirect(sp)));
    expectErrorPage(t, await send(agent(), await authorizePost(sp)));
  });

  it('a request signed by another key is refused', async () => {
    const sp = spClient(t, SIGNED, { privateKey: t.services.keys.current.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
    expectErrorPage(t, await send(agent(), await authorizeRedirect(sp)));
    expectErrorPage(t, await send(agent(), await authorizePost(sp)));
  });
});

describe('SAML encrypted assertions (the SP\'s encryption certificate configured)', () => {
  for (const [sp, algorithm] of [[GCM, 'http://www.w3.org/2009/xmlenc11#aes256-gcm'], [CBC, 'http://www.w3.org/2001/04/xmlenc#aes256-cbc']] as const) {
    it(`${algorithm.split('#')[1]}: an EncryptedAssertion node-saml decrypts and accepts`, async () => {
      const client = unsignedSpClient(t, sp);
      const url = await authorizeRedirect(client);
      const { form } = await samlSignIn(agent(), url);
      const xml = postedXml(form);
      expect(xml).toContain('<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><xenc:EncryptedData ');
      expect(xml).toContain(`<xenc:EncryptionMethod Algorithm="${algorithm}"`);
      // Nothing of the person is readable on the way.
      expect(xml).not.toContain(ALICE.login);
      expect(xml).not.toMatch(/<saml:Assertion[\s>]/);
      const profile = await expectAccepted(t, client, form);
      expect(profile.inResponseTo).toBe(messageId(url));
      expect(profile[UPN]).toBe(ALICE.login);
    });
  }
});

it('logged no SAML message, assertion, key or password (every test above ran first)', () => expectNothingSecretLogged(t));
