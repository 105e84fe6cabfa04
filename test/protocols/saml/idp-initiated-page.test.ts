import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../../harness/app.js';
import { isSignInForm } from '../../http/sign-in-flow.js';

/** AD FS's /adfs/ls/idpinitiatedsignon: off by default; when on, only the SPs that allow unsolicited sign-on. */
const sps = [
  { protocol: 'saml', identifier: 'https://wiki.example.org/saml', displayName: 'Wiki <team>', replyUrls: ['https://wiki.example.org/acs'], allowIdpInitiated: true },
  { protocol: 'saml', identifier: 'https://crm.example.org/saml', displayName: 'CRM', replyUrls: ['https://crm.example.org/acs'] },
];

describe('saml: IdP-initiated sign-on page', () => {
  it('saml: the page does not exist unless saml.idpInitiatedSignOnPage is on (as in AD FS)', async () => {
    const { app } = await startTestApp({ relyingParties: sps });
    const res = await request(app).get('/adfs/ls/idpinitiatedsignon');
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('wiki.example.org');
  });

  it('saml: lists only the SPs that allow IdP-initiated sign-on, names escaped, each linking to /saml/idp-initiated', async () => {
    const { app } = await startTestApp({ relyingParties: sps, saml: { idpInitiatedSignOnPage: true } });
    const res = await request(app).get('/adfs/ls/idpinitiatedsignon.aspx');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Wiki &lt;team&gt;');
    expect(res.text).not.toContain('Wiki <team>');
    expect(res.text).not.toContain('CRM');
    const href = /<a class="button" href="([^"]+)">Wiki/.exec(res.text)?.[1]?.replace(/&amp;/g, '&');
    expect(href).toBe(`/saml/idp-initiated?sp=${encodeURIComponent('https://wiki.example.org/saml')}`);
    // Following the link starts a sign-in for that SP (no session yet: the sign-in form is the answer).
    const start = await request(app).get(href!);
    expect(isSignInForm(start), `the sign-in form, got ${start.status}`).toBe(true);
    const refused = await request(app).get(`/saml/idp-initiated?sp=${encodeURIComponent('https://crm.example.org/saml')}`);
    expect(refused.status).toBe(400);
    expect(refused.text).not.toContain('SAMLResponse');
  });
});
