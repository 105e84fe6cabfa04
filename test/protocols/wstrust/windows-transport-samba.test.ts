import { DOMParser, type Element } from '@xmldom/xmldom';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../harness/app.js';
import { sambaDirectoryConfig, sambaLdapsearch, sambaLdbsearch } from '../../harness/directories.js';
import { createSambaComputer, createSambaUser, disableSambaUser, kinit, negotiateToken, ntlmToken, sambaKerberos } from '../../harness/kerberos.js';
import { xmlsec1VerifiesWith } from '../../xml/signature-oracles.js';
import { readMexAsMsal } from './msal-mex.js';
import { ACTION, ENTRA_AUDIENCE, msalRst, type Version } from './rst-fixtures.js';
import { entraVerdict, msalFault, msalToken, NS } from './wstrust-client.js';

/**
 * windowstransport against the real Samba AD domain controller: its KDC issues the tickets (a
 * user's, and a computer account's as hybrid join uses it), its LDAP is the directory. The
 * issue's "done when": a Samba-joined computer account gets the device claims of
 * entra-federation.md §6.2, read back from the directory independently of fedgate.
 */
const realm = sambaKerberos();
const BASE = 'https://localhost';
const ISSUER = 'http://example.test/adfs/services/trust/';
const suffix = process.pid % 10000;
const computer = { name: `WTPC${suffix}`, password: `Passw0rd!pc${suffix}` };
const person = { name: `wtuser${suffix}`, password: `Passw0rd!wt${suffix}` };
const path = (version: Version) => `/adfs/services/trust/${version}/windowstransport`;

async function windowsApp(raw: Record<string, unknown> = {}): Promise<TestApp> {
  process.env.KRB5_CONFIG = realm.krb5Config;
  return startTestApp({
    server: { baseUrl: BASE },
    federation: { internalNetworks: ['127.0.0.0/8', '::1/128'] },
    authn: { kerberos: { keytab: realm.keytab, servicePrincipal: 'HTTP/localhost', realms: [realm.realm] } },
    relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains: ['example.test'] }],
    ...raw,
  }, { directoryConfig: sambaDirectoryConfig({ userObjectFilter: '(objectClass=user)' }) });
}

/**
 * The RST of §3.2 without a UsernameToken: Kerberos at the HTTP layer proves the caller. The 1.3
 * one carries no wsse:Security at all (WCF over Windows transport security), the 2005 one a
 * wsu:Timestamp only.
 */
function windowsRst(version: Version, messageId?: string): string {
  const rst = msalRst(version, { username: 'x', password: 'x', messageId, endpoint: `${BASE}${path(version)}` })
    .replace(/<wsse:UsernameToken[\s\S]*<\/wsse:UsernameToken>/, '');
  return version === '13' ? rst.replace(/<wsse:Security[\s\S]*<\/wsse:Security>/, '') : rst;
}

const soapHeaders = (version: Version) => ({ 'Content-Type': 'application/soap+xml; charset=utf-8', SOAPAction: ACTION[version] });

async function post(t: TestApp, version: Version, authorization: string | undefined, body = windowsRst(version)) {
  const req = request(t.app).post(path(version)).set(soapHeaders(version));
  if (authorization !== undefined) req.set('Authorization', authorization);
  return req.send(Buffer.from(body, 'utf8'));
}

/** A fresh SPNEGO token (each AP-REQ is used once: the acceptor's replay cache refuses a second use). */
async function ticketFor(principal: string, password: string) {
  const ccache = await kinit(realm.krb5Config, `${principal}@${realm.realm}`, password);
  return () => negotiateToken({ krb5Config: realm.krb5Config, ccache });
}

/** The SAML 1.1 assertion as Entra reads it: Issuer, NameIdentifier, attributes by claim type, method. */
function readAssertion(xml: string) {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const all = (local: string) => Array.from(doc.getElementsByTagNameNS(NS.saml, local)) as Element[];
  const nameId = all('NameIdentifier')[0]!;
  const attributes: Record<string, string[]> = {};
  for (const a of all('Attribute')) {
    const values = Array.from(a.getElementsByTagNameNS(NS.saml, 'AttributeValue')).map((v) => v.textContent ?? '');
    attributes[`${a.getAttribute('AttributeNamespace')}/${a.getAttribute('AttributeName')}`] = values;
  }
  return {
    issuer: doc.documentElement!.getAttribute('Issuer'),
    audience: all('Audience')[0]?.textContent,
    nameId: { value: nameId.textContent, format: nameId.getAttribute('Format') },
    attributes,
    authenticationMethod: all('AuthenticationStatement')[0]?.getAttribute('AuthenticationMethod'),
  };
}

describe('windowstransport against Samba AD', () => {
  let computerAccount: string;
  let computerGuid: string;
  let computerSid: string;

  beforeAll(async () => {
    computerAccount = await createSambaComputer(computer.name, computer.password);
    await createSambaUser(person.name, person.password);
    // The directory's own view, not fedgate's: base64 of the raw objectGUID octets, the string SID.
    computerGuid = sambaLdapsearch(`(sAMAccountName=${computerAccount})`, 'objectGUID');
    computerSid = sambaLdbsearch(`(sAMAccountName=${computerAccount})`, 'objectSid');
  });

  let app: TestApp;
  beforeAll(async () => { app = await windowsApp(); });
  afterAll(async () => { await app?.services.directory.close(); });

  it.each(['2005', '13'] as const)('a domain-joined computer gets the hybrid-join device token over %s, exactly as §6.2 says', async (version) => {
    const token = await (await ticketFor(computerAccount, computer.password))();
    const messageId = 'urn:uuid:7e1c0000-0000-4000-8000-00000000000a';
    const res = await post(app, version, token.header, windowsRst(version, messageId.slice(9)));
    expect(res.status, res.text).toBe(200);
    await token.verifyServerToken(String(res.headers['www-authenticate']));
    const assertion = msalToken(res.text)!.token;
    expect(xmlsec1VerifiesWith(assertion, 'saml11', app.services.keys.current)).toBe(true);
    expect(readAssertion(assertion)).toEqual({
      issuer: ISSUER,
      audience: ENTRA_AUDIENCE,
      nameId: { value: computerGuid, format: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified' },
      attributes: {
        'http://schemas.microsoft.com/ws/2012/01/accounttype': ['DJ'],
        'http://schemas.microsoft.com/identity/claims/onpremobjectguid': [computerGuid],
        'http://schemas.microsoft.com/ws/2008/06/identity/claims/primarysid': [computerSid],
        'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID': [computerGuid],
        'http://schemas.microsoft.com/ws/2012/01/insidecorporatenetwork': ['true'],
      },
      authenticationMethod: 'urn:federation:authentication:windows',
    });
    expect(res.text).toContain(`>${messageId}</a:RelatesTo>`);
    expect(app.audits('signin.success').at(-1)).toMatchObject({ method: 'kerberos', user: computerAccount, application: ENTRA_AUDIENCE });
    expect(app.logText()).not.toContain(token.header.slice(10, 60));
  });

  it.each(['13', '2005'] as const)('a user with a ticket gets a token Entra accepts over %s, with accounttype User and Windows authentication', async (version) => {
    const token = await (await ticketFor(person.name, person.password))();
    const sentAt = new Date();
    const res = await post(app, version, token.header);
    expect(res.status, res.text).toBe(200);
    const assertion = msalToken(res.text)!.token;
    const verdict = entraVerdict(assertion, {
      domains: [{ name: 'example.test', issuerUri: ISSUER, signingCertificate: app.services.keys.current.certificateBase64 }],
      users: [{ upn: `${person.name}@example.test`, immutableId: sambaLdapsearch(`(sAMAccountName=${person.name})`, 'objectGUID') }],
    }, sentAt);
    expect(verdict.errors).toEqual([]);
    expect(verdict.claims?.authenticationMethod).toBe('http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/windows');
    expect(readAssertion(assertion).attributes['http://schemas.microsoft.com/ws/2012/01/accounttype']).toEqual(['User']);
    expect(xmlsec1VerifiesWith(assertion, 'saml11', app.services.keys.current)).toBe(true);
  });

  it('with several federated domains the device token names its domain in issuerid (the first listed)', async () => {
    const t = await windowsApp({ relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains: ['example.test', 'other.test'] }] });
    try {
      const res = await post(t, '13', (await (await ticketFor(computerAccount, computer.password))()).header);
      expect(res.status, res.text).toBe(200);
      const claims = readAssertion(msalToken(res.text)!.token);
      expect(claims.issuer).toBe(ISSUER);
      expect(claims.attributes['http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid']).toEqual([ISSUER]);
    } finally {
      await t.services.directory.close();
    }
  });

  it('a computer disabled in AD after its ticket was issued is refused with FailedAuthentication', async () => {
    const name = `WTOFF${suffix}`;
    const account = await createSambaComputer(name, computer.password);
    // The service ticket is obtained while the account is enabled (the KDC would refuse later).
    const token = await (await ticketFor(account, computer.password))();
    await disableSambaUser(account);
    const res = await post(app, '2005', token.header);
    expect(res.status).toBe(500);
    expect(msalFault(res.text).code).toBe('a:FailedAuthentication');
    expect(app.audits('signin.failure').at(-1)).toMatchObject({ method: 'kerberos', user: `${account}@${realm.realm}`, outcome: 'disabled' });
  });

  it('without a Negotiate header: 401 with the challenge and a bare fault; NTLM and garbage tokens too', async () => {
    const bodies = new Set<string>();
    for (const authorization of [undefined, 'Basic d3Q6d3Q=', `Negotiate ${ntlmToken()}`, 'Negotiate !!!', 'Negotiate']) {
      const res = await post(app, '13', authorization);
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Negotiate');
      expect(msalFault(res.text).code).toBe('a:FailedAuthentication');
      bodies.add(res.text);
    }
    // One fixed fault whatever went wrong: the reason is in the log only.
    expect(bodies.size).toBe(1);
    expect([...bodies][0]).not.toMatch(/NTLM|Kerberos|Negotiate|base64/i);
    expect(app.logs().filter((l) => l.msg === 'wstrust: refused').map((l) => l.detail)).toEqual(expect.arrayContaining([
      expect.stringContaining('an NTLM token'), expect.stringContaining('no Negotiate Authorization header'),
    ]));
  });

  it('a UsernameToken sent to windowstransport is refused (InvalidSecurity), not ignored', async () => {
    const token = await (await ticketFor(person.name, person.password))();
    const res = await post(app, '13', token.header, msalRst('13', { username: person.name, password: person.password }));
    expect(res.status).toBe(500);
    expect(msalFault(res.text).code).toBe('a:InvalidSecurity');
  });

  it('from outside the internal networks: 403 before any challenge, even with a valid ticket', async () => {
    const t = await windowsApp({ federation: { internalNetworks: ['10.0.0.0/8'] } });
    try {
      for (const authorization of [undefined, (await (await ticketFor(person.name, person.password))()).header]) {
        const res = await post(t, '2005', authorization);
        expect(res.status).toBe(403);
        expect(res.headers['www-authenticate']).toBeUndefined();
        expect(msalFault(res.text).code).toBe('a:RequestFailed');
      }
      expect(t.audits('signin.success')).toHaveLength(0);
    } finally {
      await t.services.directory.close();
    }
  });

  it('through a trusted proxy, a client it reports from outside (x-ms-forwarded-client-ip) is outside', async () => {
    const t = await windowsApp({ server: { baseUrl: BASE, trustProxy: ['loopback'] } });
    try {
      const res = await request(t.app).post(path('13')).set(soapHeaders('13')).set('x-ms-forwarded-client-ip', '203.0.113.9')
        .send(Buffer.from(windowsRst('13'), 'utf8'));
      expect(res.status).toBe(403);
      // The proxy itself, with no client to report, is inside: the challenge.
      expect((await post(t, '13', undefined)).status).toBe(401);
    } finally {
      await t.services.directory.close();
    }
  });

  it('MEX lists both windowstransport endpoints, and a client that follows it gets its token', async () => {
    const mex = readMexAsMsal((await request(app.app).get('/adfs/services/trust/mex')).text);
    expect(mex.integratedEndpoints).toEqual([
      { address: `${BASE}${path('13')}`, action: ACTION['13'] },
      { address: `${BASE}${path('2005')}`, action: ACTION['2005'] },
    ]);
    const res = await post(app, '13', (await (await ticketFor(person.name, person.password))()).header);
    expect(new URL(mex.integrated!.address).pathname).toBe(path('13'));
    expect(res.status).toBe(200);
    expect((await request(app.app).get(path('13'))).status).toBe(405);
  });

  it.each([
    ['wsTrust.windowsTransport is false', { wsTrust: { windowsTransport: false } }],
    ['authn.kerberos is absent', { authn: {} }],
  ])('404 and no MEX entry when %s', async (_why, raw) => {
    const t = await windowsApp(raw);
    try {
      for (const version of ['2005', '13'] as const) expect((await post(t, version, undefined)).status).toBe(404);
      expect(readMexAsMsal((await request(t.app).get('/adfs/services/trust/mex')).text).integratedEndpoints).toEqual([]);
    } finally {
      await t.services.directory.close();
    }
  });
});
