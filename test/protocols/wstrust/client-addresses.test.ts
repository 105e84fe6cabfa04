import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { activeClientAddresses } from '../../../src/protocols/wstrust/client-addresses.js';
import { startTestApp } from '../../harness/app.js';
import { DEMO, wsTrustApp } from './demo-tenant.js';
import { endpointPath, exchangeHeaders, exchangeRst } from './rst-fixtures.js';
import { msalFault, post, postExchange } from './wstrust-client.js';

/**
 * The addresses smart lockout must find familiar (entra-federation.md §9): the proxy headers count
 * only when the request came through server.trustProxy, as AD FS reads x-ms-forwarded-client-ip.
 */
async function addressesApp(trustProxy: unknown) {
  const { config } = await startTestApp({ server: { baseUrl: 'http://127.0.0.1:8080', trustProxy } });
  // Mounted the way app.ts sets Express up: trust proxy from the same setting.
  const app = express();
  app.set('trust proxy', config.server.trustProxy);
  app.get('/', (req, res) => { res.json(activeClientAddresses(req, config)); });
  return app;
}

const PROXY_HEADERS = {
  'X-Forwarded-For': '198.51.100.99, 203.0.113.9',
  'X-MS-Forwarded-Client-IP': '198.51.100.7:50123, not-an-address',
  'X-MS-Proxy-Client-IP': '[2001:DB8::1]:443',
};

describe('activeClientAddresses', () => {
  it('without a trusted proxy: only the network address, whatever the headers say', async () => {
    const app = await addressesApp(false);
    expect((await request(app).get('/').set(PROXY_HEADERS)).body).toEqual(['127.0.0.1']);
  });

  it('through a trusted proxy: the client address and every address the proxy headers report', async () => {
    const app = await addressesApp(['loopback']);
    expect((await request(app).get('/').set(PROXY_HEADERS)).body).toEqual(['203.0.113.9', '198.51.100.7', '2001:db8::1', '198.51.100.99']);
    expect((await request(app).get('/')).body).toEqual(['127.0.0.1']);
  });

  it('a proxy not in trustProxy is not believed', async () => {
    const app = await addressesApp(['10.0.0.0/8']);
    expect((await request(app).get('/').set(PROXY_HEADERS)).body).toEqual(['127.0.0.1']);
  });
});

describe('usernamemixed hands those addresses to smart lockout', () => {
  it('a stranger forwarded by Exchange through the trusted proxy uses the unfamiliar budget; the owner still signs in', async () => {
    const t = await wsTrustApp({ server: { baseUrl: 'http://127.0.0.1:8080', trustProxy: ['loopback'] }, signIn: { maxFailuresPerUser: 5, unfamiliarMaxFailuresPerUser: 1 } });
    const owner = { username: DEMO.alice.login, password: DEMO.alice.password };
    expect((await postExchange(t, owner)).status).toBe(200); // 127.0.0.1 becomes familiar
    const stranger = { 'X-MS-Forwarded-Client-IP': '198.51.100.7' };
    await post(t, endpointPath('2005'), exchangeRst({ ...owner, password: 'sprayed' }), { ...exchangeHeaders, ...stranger });
    const held = await post(t, endpointPath('2005'), exchangeRst(owner), { ...exchangeHeaders, ...stranger });
    expect(msalFault(held.text).code).toBe('a:FailedAuthentication');
    expect(t.audits('signin.rate_limited').map((e) => e.outcome)).toEqual(['unfamiliar-lockout']);
    expect((await postExchange(t, owner)).status).toBe(200);
  });
});
