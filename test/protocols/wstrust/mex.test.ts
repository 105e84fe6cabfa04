import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { DEMO_USERS_FILE } from '../../../src/cli/embedded-demo.js';
import { parseConfig } from '../../../src/config/load.js';
import { wsTrustReferences } from '../../../src/protocols/wstrust/mex-endpoints.js';
import { mexRoutes } from '../../../src/protocols/wstrust/mex-route.js';
import { startTestApp } from '../../harness/app.js';
import type { App } from '../../../src/app.js';
import { parseXml } from '../../xml/signature-oracles.js';
import { ACTION_13, ACTION_2005, readMexAsMsal } from './msal-mex.js';

/** The MEX document (entra-federation.md §3.4), read the way MSAL reads it (msal-mex.ts). */

const BASE = 'https://sts.contoso.test';
const MEX = '/adfs/services/trust/mex';
const at = (path: string) => `${BASE}/adfs/services/trust/${path}`;
const USERNAME_13 = { address: at('13/usernamemixed'), action: ACTION_13 };
const USERNAME_2005 = { address: at('2005/usernamemixed'), action: ACTION_2005 };
const WINDOWS_13 = { address: at('13/windowstransport'), action: ACTION_13 };
const WINDOWS_2005 = { address: at('2005/windowstransport'), action: ACTION_2005 };
/** The configuration checks that the keytab exists; the MEX router never opens it. */
const keytab = join(mkdtempSync(join(tmpdir(), 'fedgate-mex-kt-')), 'fedgate.keytab');
writeFileSync(keytab, '');
const KERBEROS = { keytab, servicePrincipal: 'HTTP/sts.contoso.test@CONTOSO.TEST', realms: ['CONTOSO.TEST'] };

function mexConfig(raw: Record<string, unknown>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'fedgate-mex-'));
  return parseConfig({ server: { baseUrl: BASE }, dataDir, directory: { type: 'file', path: DEMO_USERS_FILE }, ...raw }, 'test', dataDir, {});
}

/** The MEX router alone, over a validated configuration: no Kerberos acceptor is started for it. */
function mexApp(raw: Record<string, unknown>) {
  return express().use(mexRoutes(mexConfig(raw)));
}

async function getMex(app: App) {
  const res = await request(app).get(MEX).buffer(true).parse((r, done) => {
    let body = '';
    r.on('data', (c: Buffer) => { body += c.toString(); });
    r.on('end', () => done(null, body));
  });
  return { status: res.status, type: String(res.headers['content-type']), cacheControl: res.headers['cache-control'], xml: res.body as string };
}

describe('MEX: the endpoints MSAL finds in it', () => {
  it('through the real app, usernamemixed only (the default): MSAL picks 1.3 usernamemixed, finds 2005 too, no integrated endpoint', async () => {
    const t = await startTestApp({ server: { baseUrl: BASE } });
    const mex = await getMex(t.app);
    expect(mex.status).toBe(200);
    expect(mex.type).toBe('text/xml; charset=utf-8');
    expect(mex.cacheControl).toBe('public, max-age=3600');
    const msal = readMexAsMsal(mex.xml);
    expect(msal.usernamePassword).toEqual(USERNAME_13);
    expect(msal.usernamePasswordEndpoints).toEqual([USERNAME_13, USERNAME_2005]);
    expect(msal.integratedEndpoints).toEqual([]);
    // The lower-case path as clients type it; AD FS's paths are case-insensitive too.
    expect((await request(t.app).get(MEX.toUpperCase())).status).toBe(200);
  });

  it('with Kerberos: windowstransport 1.3 and 2005 found by NegotiateAuthentication, each naming the service principal to ask a ticket for', async () => {
    const mex = await getMex(mexApp({ authn: { kerberos: KERBEROS } }));
    const msal = readMexAsMsal(mex.xml);
    expect(msal.usernamePassword).toEqual(USERNAME_13);
    expect(msal.integratedEndpoints).toEqual([WINDOWS_13, WINDOWS_2005]);
    expect(msal.integrated).toEqual(WINDOWS_13);
    const spns = Array.from(parseXml(mex.xml).getElementsByTagNameNS('http://schemas.xmlsoap.org/ws/2006/02/addressingidentity', 'Spn'));
    expect(spns.map((s) => s.textContent)).toEqual(['HTTP/sts.contoso.test', 'HTTP/sts.contoso.test']);
    // Without a configured principal: the one browsers ask for, HTTP/<host of baseUrl>.
    const { servicePrincipal: _unused, ...anyPrincipal } = KERBEROS;
    const derived = await getMex(mexApp({ server: { baseUrl: 'https://login.contoso.test:8443/fg' }, authn: { kerberos: anyPrincipal } }));
    expect(derived.xml).toContain('<Spn>HTTP/login.contoso.test</Spn>');
    expect(readMexAsMsal(derived.xml).integrated?.address).toBe('https://login.contoso.test:8443/fg/adfs/services/trust/13/windowstransport');
  });

  it('usernamemixed off: MSAL finds no username/password endpoint, only windowstransport', async () => {
    const msal = readMexAsMsal((await getMex(mexApp({ wsTrust: { usernameMixed: false }, authn: { kerberos: KERBEROS } }))).xml);
    expect(msal.usernamePasswordEndpoints).toEqual([]);
    expect(msal.usernamePassword).toBeUndefined();
    expect(msal.integratedEndpoints).toEqual([WINDOWS_13, WINDOWS_2005]);
  });

  it('windowstransport needs wsTrust.windowsTransport and an enabled authn.kerberos', async () => {
    for (const raw of [{ wsTrust: { windowsTransport: false }, authn: { kerberos: KERBEROS } }, { authn: { kerberos: { ...KERBEROS, enabled: false } } }]) {
      const msal = readMexAsMsal((await getMex(mexApp(raw))).xml);
      expect(msal.integratedEndpoints).toEqual([]);
      expect(msal.usernamePasswordEndpoints).toEqual([USERNAME_13, USERNAME_2005]);
    }
  });

  it('nothing enabled: no MEX at all (404, GET and POST)', async () => {
    for (const off of [
      mexApp({ wsTrust: { usernameMixed: false } }), // windowstransport on, but no Kerberos
      mexApp({ wsTrust: { usernameMixed: false, windowsTransport: false }, authn: { kerberos: KERBEROS } }),
    ]) {
      expect((await request(off).get(MEX)).status).toBe(404);
      expect((await request(off).post(MEX).set('Content-Type', 'application/soap+xml').send(soapGet())).status).toBe(404);
    }
  });

  it('an http:// baseUrl (the demo) is served, but MSAL uses only https:// addresses, so finds nothing', async () => {
    const mex = await getMex(mexApp({ server: { baseUrl: 'http://127.0.0.1:8080' }, authn: { kerberos: KERBEROS } }));
    expect(mex.xml).toContain('http://127.0.0.1:8080/adfs/services/trust/13/usernamemixed');
    expect(readMexAsMsal(mex.xml)).toEqual({ usernamePasswordEndpoints: [], usernamePassword: undefined, integratedEndpoints: [], integrated: undefined });
  });

  it('the reader is not vacuous: each MSAL rule, broken in the served document, loses the endpoint it guards', async () => {
    const { xml } = await getMex(mexApp({ authn: { kerberos: KERBEROS } }));
    const SP13 = 'xmlns:sp="http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702"';
    const cases: [[string, string][], (m: ReturnType<typeof readMexAsMsal>) => unknown, unknown][] = [
      // The 1.3 policy's TransportBinding in another namespace: MSAL falls back to 2005.
      [[[`<sp:TransportBinding ${SP13}>`, '<sp:TransportBinding xmlns:sp="urn:other">']], (m) => m.usernamePassword, USERNAME_2005],
      [[['SignedEncryptedSupportingTokens', 'SignedSupportingTokens']], (m) => m.usernamePassword, USERNAME_2005],
      // Another prefix for wsu: MSAL for Java reads the attribute named "wsu:Id" and finds no policy.
      [[['xmlns:wsu=', 'xmlns:u='], ['wsu:Id=', 'u:Id=']], (m) => m.usernamePasswordEndpoints.length + m.integratedEndpoints.length, 0],
      [[['NegotiateAuthentication', 'BasicAuthentication']], (m) => m.integratedEndpoints, []],
      [[['transport="http://schemas.xmlsoap.org/soap/http"', 'transport="http://schemas.xmlsoap.org/soap/tcp"']], (m) => m.usernamePasswordEndpoints, []],
      [[['#UserNameWSTrustBinding_IWSTrust13Async_policy', '#other_policy']], (m) => m.usernamePasswordEndpoints, [USERNAME_2005]],
    ];
    for (const [edits, pick, expected] of cases) {
      const broken = edits.reduce((doc, [from, to]) => doc.replaceAll(from, to), xml);
      expect(broken, edits[0]![0]).not.toBe(xml);
      expect(pick(readMexAsMsal(broken)), edits[0]![0]).toEqual(expected);
    }
  });
});

describe('what points to MEX (federation metadata §4, Entra\'s activeSignInUri and metadataExchangeUri §3.5)', () => {
  it('MEX whenever an endpoint is served; activeSignInUri only with usernamemixed; the STS endpoint a 2005 one fedgate serves', () => {
    expect(wsTrustReferences(mexConfig({}))).toEqual({
      metadataExchangeUri: `${BASE}${MEX}`, activeSignInUri: USERNAME_2005.address, securityTokenServiceEndpoint: USERNAME_2005.address,
    });
    expect(wsTrustReferences(mexConfig({ wsTrust: { usernameMixed: false }, authn: { kerberos: KERBEROS } }))).toEqual({
      metadataExchangeUri: `${BASE}${MEX}`, activeSignInUri: undefined, securityTokenServiceEndpoint: WINDOWS_2005.address,
    });
    expect(wsTrustReferences(mexConfig({ wsTrust: { usernameMixed: false } }))).toBeUndefined();
  });
});

function soapGet(action = 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Get', messageId = 'urn:uuid:6d1c3f5e-0c1b-4f4e-9d7a-0f3a2b1c4d5e', addressing = 'http://www.w3.org/2005/08/addressing') {
  return `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="${addressing}"><s:Header>`
    + `<a:Action s:mustUnderstand="1">${action}</a:Action><a:MessageID>${messageId}</a:MessageID>`
    + `<a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo>`
    + `<a:To s:mustUnderstand="1">${BASE}${MEX}</a:To></s:Header><s:Body/></s:Envelope>`;
}

describe('MEX over SOAP (POST, as WCF\'s metadata exchange asks)', () => {
  const SOAP = 'http://www.w3.org/2003/05/soap-envelope';
  const MEX_NS = 'http://schemas.xmlsoap.org/ws/2004/09/mex';

  async function post(app: App, body: string) {
    const res = await request(app).post(MEX).set('Content-Type', 'application/soap+xml; charset=utf-8').send(body);
    return { status: res.status, type: String(res.headers['content-type']), text: res.text };
  }

  it('WS-Transfer Get and WS-MetadataExchange GetMetadata, through the real app: the same WSDL in wsx:Metadata, RelatesTo the MessageID', async () => {
    const t = await startTestApp({ server: { baseUrl: BASE } });
    const wsdl = (await getMex(t.app)).xml;
    for (const [action, response, addressing] of [
      ['http://schemas.xmlsoap.org/ws/2004/09/transfer/Get', 'http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse', 'http://www.w3.org/2005/08/addressing'],
      ['http://schemas.xmlsoap.org/ws/2004/09/mex/GetMetadata/Request', 'http://schemas.xmlsoap.org/ws/2004/09/mex/GetMetadata/Response', 'http://www.w3.org/2005/08/addressing'],
      ['http://schemas.xmlsoap.org/ws/2004/09/transfer/Get', 'http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse', 'http://schemas.xmlsoap.org/ws/2004/08/addressing'],
    ] as const) {
      const res = await post(t.app, soapGet(action, 'urn:uuid:11111111-2222-3333-4444-555555555555', addressing));
      expect(res.status, action).toBe(200);
      expect(res.type).toBe('application/soap+xml; charset=utf-8');
      const doc = parseXml(res.text);
      const header = doc.getElementsByTagNameNS(SOAP, 'Header').item(0)!;
      expect(header.getElementsByTagNameNS(addressing, 'Action').item(0)!.textContent).toBe(response);
      expect(header.getElementsByTagNameNS(addressing, 'RelatesTo').item(0)!.textContent).toBe('urn:uuid:11111111-2222-3333-4444-555555555555');
      const section = doc.getElementsByTagNameNS(MEX_NS, 'MetadataSection').item(0)!;
      expect(section.getAttribute('Dialect')).toBe('http://schemas.xmlsoap.org/wsdl/');
      expect(section.getAttribute('Identifier')).toBe('http://schemas.microsoft.com/ws/2008/06/identity/securitytokenservice');
      // The definitions inside are the GET document, byte for byte (the same canonical writer), and MSAL reads them alike.
      const inner = res.text.slice(res.text.indexOf('<wsdl:definitions'), res.text.indexOf('</wsdl:definitions>') + '</wsdl:definitions>'.length);
      expect(inner).toBe(wsdl);
      expect(readMexAsMsal(inner).usernamePassword).toEqual(USERNAME_13);
    }
  });

  it('a MessageID that is not a plain URI is not echoed', async () => {
    const t = await startTestApp({ server: { baseUrl: BASE } });
    const res = await post(t.app, soapGet(undefined, 'urn:uuid:a b&lt;'));
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('RelatesTo');
  });

  it('anything else is a SOAP fault as the WS-Trust endpoints send them (hostile XML included), never the WSDL', async () => {
    const t = await startTestApp({ server: { baseUrl: BASE } });
    const faults: [string, string][] = [
      ['', 'RequestFailed'],
      ['not xml', 'RequestFailed'],
      ['<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>', 'RequestFailed'],
      [soapGet().replaceAll('http://www.w3.org/2003/05/soap-envelope', 'http://schemas.xmlsoap.org/soap/envelope/'), 'RequestFailed'], // SOAP 1.1
      [soapGet('http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue'), 'ActionNotSupported'],
      [soapGet().replace('<a:Action', '<a:Action s:mustUnderstand="1">x</a:Action><a:Action'), 'ActionNotSupported'],
      [`<s:Envelope xmlns:s="${SOAP}"><s:Body/></s:Envelope>`, 'ActionNotSupported'],
    ];
    for (const [body, subcode] of faults) {
      const res = await post(t.app, body);
      expect(res.status, body).toBe(500);
      expect(res.type).toBe('application/soap+xml; charset=utf-8');
      expect(res.text, body).toMatch(new RegExp(`<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value xmlns:a="[^"]+">a:${subcode}</s:Value>`));
      expect(res.text).not.toContain('wsdl:definitions');
    }
    expect(t.logs().filter((l) => l.msg === 'wstrust: fault' && l.endpoint === 'mex')).toHaveLength(faults.length);
    const form = await request(t.app).post(MEX).set('Content-Type', 'text/xml').send(soapGet());
    expect(form.status).toBe(415);
    const big = await post(t.app, soapGet().replace('<s:Body/>', `<s:Body>${'<x/>'.repeat(20_000)}</s:Body>`));
    expect(big.status).toBe(413);
  });
});
