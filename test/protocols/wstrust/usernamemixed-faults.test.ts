import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { DirectoryUnavailableError } from '../../../src/core/errors.js';
import type { Directory } from '../../../src/directory/directory.js';
import { startTestApp, type TestApp } from '../../harness/app.js';
import { DEMO, wsTrustApp } from './demo-tenant.js';
import { ACTION, endpointPath, exchangeRst, msalHeaders, msalRst, type RstOptions, type Version } from './rst-fixtures.js';
import { msalFault, path, post, postExchange, postMsal, NS } from './wstrust-client.js';

/**
 * Every fault of usernamemixed (entra-federation.md §3.3): its SOAP 1.2 shape as MSAL and Exchange
 * read it, its HTTP status, and what it must never tell (whether the user exists, a stack trace).
 */
const TRUST13 = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512';
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const MESSAGE_ID = '0d15ea5e-0000-4000-8000-000000000001';

/** The fault as a client sees it: status, SOAP 1.2 code, subcode (namespace + name) and reason. */
function fault(res: { status: number; text: string }) {
  const code = path(res.text, [NS.s, 'Envelope'], [NS.s, 'Body'], [NS.s, 'Fault'], [NS.s, 'Code'], [NS.s, 'Value'])[0]?.textContent;
  const subcode = path(res.text, [NS.s, 'Envelope'], [NS.s, 'Body'], [NS.s, 'Fault'], [NS.s, 'Code'], [NS.s, 'Subcode'], [NS.s, 'Value'])[0];
  const [prefix, name] = (subcode?.textContent ?? ':').split(':');
  return {
    status: res.status,
    code,
    subcode: subcode ? { ns: subcode.lookupNamespaceURI(prefix ?? null), name } : undefined,
    reason: msalFault(res.text).reason,
  };
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/\bat \S+ \(|Error:|node_modules|\.ts:\d/);

const alice = (extra: Partial<RstOptions> = {}): RstOptions => ({ username: DEMO.alice.login, password: DEMO.alice.password, messageId: MESSAGE_ID, ...extra });

describe.each(['2005', '13'] as const)('usernamemixed %s faults', (version: Version) => {
  it('wrong password, unknown user, disabled and expired accounts get byte-identical FailedAuthentication faults (HTTP 500)', async () => {
    const t = await wsTrustApp();
    const answers = await Promise.all([
      postMsal(t, version, alice({ password: 'wrong' })),
      postMsal(t, version, alice({ username: 'nobody@demo.fedgate.test', password: 'wrong' })),
      postMsal(t, version, alice({ username: DEMO.carol.login, password: DEMO.carol.password })),
      postMsal(t, version, alice({ username: DEMO.dave.login, password: DEMO.dave.password })),
    ]);
    for (const a of answers) expect(a.text).toBe(answers[0]!.text);
    expect(fault(answers[0]!)).toEqual({
      status: 500, code: 's:Sender', subcode: { ns: TRUST13, name: 'FailedAuthentication' },
      reason: 'ID3242: The security token could not be authenticated or authorized.',
    });
    // What Exchange keys on: the subcode's ending, and no MSIS3126 ("rules denied") in the reason.
    expect(msalFault(answers[0]!.text).code).toMatch(/:FailedAuthentication$/);
    expect(answers[0]!.text).not.toContain('MSIS3126');
    expect(path(answers[0]!.text, [NS.s, 'Envelope'], [NS.s, 'Header'], [NS.wsa, 'RelatesTo'])[0]?.textContent).toBe(`urn:uuid:${MESSAGE_ID}`);
    expect(t.audits('signin.failure').map((e) => e.outcome).sort()).toEqual(['account-expired', 'disabled', 'invalid-credentials', 'invalid-credentials']);
    expect(t.logText()).not.toContain(DEMO.carol.password);
  });

  it('a rate-limited user gets the same FailedAuthentication, even with the right password', async () => {
    const t = await wsTrustApp({ signIn: { maxFailuresPerUser: 2, unfamiliarMaxFailuresPerUser: 2 } });
    const wrong = await postMsal(t, version, alice({ password: 'wrong' }));
    await postMsal(t, version, alice({ password: 'wrong' }));
    const held = await postMsal(t, version, alice());
    expect(held.text).toBe(wrong.text);
    expect(t.audits('signin.rate_limited')).toHaveLength(1);
  });

  it('a right password that must be changed is FailedAuthentication.ExpiredPassword, with the change URL last in the reason', async () => {
    const t = await wsTrustApp({ branding: { passwordChangeUrl: 'https://sts.contoso.test/adfs/portal/updatepassword' } });
    const res = await postMsal(t, version, alice({ username: DEMO.erin.login, password: DEMO.erin.password }));
    const f = fault(res);
    expect(f).toMatchObject({ status: 500, code: 's:Sender', subcode: { ns: TRUST13, name: 'FailedAuthentication.ExpiredPassword' } });
    // Exchange's RecoveryUrl: the reason from its first "https:" to the end.
    expect(f.reason.slice(f.reason.indexOf('https:')).trim()).toBe('https://sts.contoso.test/adfs/portal/updatepassword');
    const without = await postMsal(await wsTrustApp(), version, alice({ username: DEMO.erin.login, password: DEMO.erin.password }));
    expect(fault(without).reason).toBe('The password has expired or must be changed.');
  });

  it('a timestamp outside the clock skew either way is InvalidSecurity, and the directory is not asked', async () => {
    const t = await wsTrustApp({ wsTrust: { clockSkew: '2m' } });
    const future = await postMsal(t, version, alice({ now: new Date(Date.now() + 3 * 60_000) }));
    // MSAL's timestamps expire after 10 minutes: created 13 minutes ago expired 3 minutes ago.
    const expired = await postMsal(t, version, alice({ now: new Date(Date.now() - 13 * 60_000) }));
    for (const res of [future, expired]) {
      expect(fault(res)).toEqual({ status: 500, code: 's:Sender', subcode: { ns: WSSE, name: 'InvalidSecurity' }, reason: 'An error occurred when verifying security for the message.' });
    }
    expect(t.audits()).toEqual([]);
    // Within the skew both ways is fine.
    expect((await postMsal(t, version, alice({ now: new Date(Date.now() + 60_000) }))).status).toBe(200);
    expect((await postMsal(t, version, alice({ now: new Date(Date.now() - 11 * 60_000) }))).status).toBe(200);
  });

  it('a missing Security header, UsernameToken or Timestamp is InvalidSecurity', async () => {
    const t = await wsTrustApp();
    const rst = msalRst(version, alice());
    const variants = [
      rst.replace(/<wsse:Security[\s\S]*<\/wsse:Security>/, ''),
      rst.replace(/<wsse:UsernameToken[\s\S]*<\/wsse:UsernameToken>/, ''),
      rst.replace(/<wsu:Timestamp[\s\S]*<\/wsu:Timestamp>/, ''),
      rst.replace('<wsse:Password>', '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">'),
    ];
    for (const body of variants) {
      const res = await post(t, endpointPath(version), body, msalHeaders(version));
      expect(fault(res).subcode).toEqual({ ns: WSSE, name: 'InvalidSecurity' });
    }
    expect(t.audits()).toEqual([]);
  });

  it('an AppliesTo no relying party has is RequestFailed, before any password is checked', async () => {
    const t = await wsTrustApp();
    const res = await postMsal(t, version, alice({ appliesTo: 'urn:evil:audience' }));
    expect(fault(res)).toEqual({ status: 500, code: 's:Sender', subcode: { ns: TRUST13, name: 'RequestFailed' }, reason: 'MSIS3127: The specified request failed.' });
    expect(t.audits()).toEqual([]);
    expect(t.logs().find((l) => l.msg === 'wstrust: fault')).toMatchObject({ fault: 'request-failed', detail: 'unknown AppliesTo urn:evil:audience' });
  });

  it('an action for the other version, or SOAPAction disagreeing with wsa:Action, is ActionNotSupported', async () => {
    const t = await wsTrustApp();
    const other: Version = version === '13' ? '2005' : '13';
    const crossed = await post(t, endpointPath(version), msalRst(other, alice()), msalHeaders(other));
    const disagreeing = await post(t, endpointPath(version), msalRst(version, alice()), { ...msalHeaders(version), SOAPAction: ACTION[other] });
    const inContentType = await post(t, endpointPath(version), msalRst(version, alice()),
      { 'Content-Type': `application/soap+xml; charset=utf-8; action="${ACTION[other]}"` });
    for (const res of [crossed, disagreeing, inContentType]) {
      expect(fault(res)).toMatchObject({ status: 500, code: 's:Sender', subcode: { ns: NS.wsa, name: 'ActionNotSupported' } });
    }
    // The version's own action in the Content-Type alone is enough (no wsa:Action, no SOAPAction).
    const ok = await post(t, endpointPath(version), msalRst(version, alice()).replace(/<wsa:Action[^>]*>[^<]*<\/wsa:Action>/, ''),
      { 'Content-Type': `application/soap+xml; charset=utf-8; action="${ACTION[version]}"` });
    expect(ok.status, ok.text).toBe(200);
    expect(t.audits('signin.success')).toHaveLength(1);
  });
});

describe('usernamemixed refusals before any SOAP processing', () => {
  const path2005 = endpointPath('2005');
  const headers = msalHeaders('2005');

  it('not XML, not SOAP 1.2, or a Body without exactly one element: RequestFailed, no stack trace', async () => {
    const t = await wsTrustApp();
    const rst = msalRst('2005', alice());
    const bodies = [
      'this is not xml',
      rst.slice(0, 200),
      rst.replace(/http:\/\/www\.w3\.org\/2003\/05\/soap-envelope/, 'http://schemas.xmlsoap.org/soap/envelope/'),
      rst.replace('</s:Body>', '<x:Extra xmlns:x="urn:x"/></s:Body>'),
      rst.replace(/<s:Body>[\s\S]*<\/s:Body>/, '<s:Body></s:Body>'),
      rst.replace('</s:Envelope>', '<s:Body/></s:Envelope>'),
      rst.replace('<wst:RequestSecurityToken ', '<wst:RequestSecurityToken2 ').replace('</wst:RequestSecurityToken>', '</wst:RequestSecurityToken2>'),
      rst.replace(/<wst:RequestType>[^<]*<\/wst:RequestType>/, '<wst:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Renew</wst:RequestType>'),
      rst.replace(/<wst:KeyType>[^<]*<\/wst:KeyType>/, '<wst:KeyType>http://schemas.xmlsoap.org/ws/2005/02/trust/SymmetricKey</wst:KeyType>'),
      rst.replace('<wsa:Action', '<wsa:MessageID>urn:uuid:x</wsa:MessageID><wsa:Action').replace(/<wsse:Security /, '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"/><wsse:Security '),
    ];
    for (const body of bodies) {
      const res = await post(t, path2005, body, headers);
      expect(fault(res), body).toMatchObject({ status: 500, subcode: { ns: TRUST13, name: 'RequestFailed' } });
      noStackTrace(res.text);
    }
    expect(t.audits()).toEqual([]);
  });

  it('a DOCTYPE (XXE, entity expansion) is refused by the hardened parser: nothing of the file comes back', async () => {
    const t = await wsTrustApp();
    const xxe = `<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>${msalRst('2005', alice({ username: '&x;' }))}`;
    const res = await post(t, path2005, xxe, headers);
    expect(fault(res)).toMatchObject({ status: 500, subcode: { name: 'RequestFailed' } });
    expect(res.text).not.toContain('root:');
    expect(t.logs().find((l) => l.msg === 'wstrust: fault')?.detail).toMatch(/XML refused: (doctype|entity)/);
    expect(t.audits()).toEqual([]);
  });

  it('a body over 64 KiB is 413 with a fault; another media type 415; GET 405', async () => {
    const t = await wsTrustApp();
    const big = msalRst('2005', alice()).replace('</s:Header>', `<x:Pad xmlns:x="urn:x">${'a'.repeat(70_000)}</x:Pad></s:Header>`);
    const tooBig = await post(t, path2005, big, headers);
    expect(fault(tooBig)).toMatchObject({ status: 413, subcode: { name: 'RequestFailed' } });
    const soap11 = await post(t, path2005, msalRst('2005', alice()), { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: ACTION['2005'] });
    expect(fault(soap11)).toMatchObject({ status: 415, subcode: { name: 'RequestFailed' } });
    const latin1 = await post(t, path2005, msalRst('2005', alice()), { ...headers, 'Content-Type': 'application/soap+xml; charset=iso-8859-1' });
    expect(latin1.status).toBe(415);
    for (const version of ['2005', '13'] as const) {
      const get = await request(t.app).get(endpointPath(version));
      expect(get.status).toBe(405);
      expect(get.headers.allow).toBe('POST');
      expect(get.headers['content-type']).toBe('application/soap+xml; charset=utf-8');
    }
    expect(t.audits()).toEqual([]);
  });

  it('a header marked mustUnderstand that fedgate does not process is a MustUnderstand fault; unmarked unknown headers are ignored', async () => {
    const t = await wsTrustApp();
    const marked = msalRst('2005', alice()).replace('</s:Header>', '<x:Policy xmlns:x="urn:x" s:mustUnderstand="1">demand</x:Policy></s:Header>');
    const res = await post(t, path2005, marked, headers);
    expect(fault(res)).toMatchObject({ status: 500, code: 's:MustUnderstand', subcode: undefined });
    // Exchange's ps:AuthInfo is such an unknown, unmarked header (the Exchange test signs in with it).
    const ignored = msalRst('2005', alice()).replace('</s:Header>', '<x:Policy xmlns:x="urn:x">demand</x:Policy></s:Header>');
    expect((await post(t, path2005, ignored, headers)).status).toBe(200);
  });

  it('an unreachable directory is a Receiver fault, HTTP 500 (as AD FS), never FailedAuthentication', async () => {
    const unreachable = async () => { throw new DirectoryUnavailableError('connect ECONNREFUSED 127.0.0.1:1'); };
    const down: Directory = {
      authenticate: unreachable, findUser: async () => undefined, checkAccount: unreachable, checkHealth: unreachable,
      describe: () => 'down', close: async () => {},
    };
    const t = await startTestApp(
      { relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains: ['demo.fedgate.test'] }] }, { directory: down });
    const res = await postExchange(t, alice());
    expect(fault(res)).toEqual({ status: 500, code: 's:Receiver', subcode: { ns: TRUST13, name: 'RequestFailed' }, reason: 'MSIS3127: The specified request failed.' });
    expect(res.text).not.toContain('ECONNREFUSED');
    noStackTrace(res.text);
    expect(t.audits('signin.directory_unavailable')).toHaveLength(1);
  });

  it('a user outside the federated domains gets RequestFailed and no token', async () => {
    const t = await startTestApp({ relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains: ['contoso.test'] }] });
    const res = await post(t, path2005, exchangeRst(alice()), { 'Content-Type': 'application/soap+xml; charset=utf-8' });
    expect(fault(res)).toMatchObject({ status: 500, code: 's:Sender', subcode: { name: 'RequestFailed' } });
    expect(res.text).not.toContain('Assertion');
  });

  it('usernameMixed: false leaves both endpoints unmounted (404)', async () => {
    const t: TestApp = await wsTrustApp({ wsTrust: { usernameMixed: false } });
    for (const version of ['2005', '13'] as const) {
      expect((await postMsal(t, version, alice())).status).toBe(404);
    }
    expect(t.audits()).toEqual([]);
  });
});
