import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { sambaDirectoryConfig, sambaLdbsearch } from '../harness/directories.js';
import { createSambaUser } from '../harness/kerberos.js';
import { AD_LOCKOUT_THRESHOLD, TEST_DOMAIN } from '../harness/users.js';
import { signIn, type Agent } from './sign-in-flow.js';
import { endpointPath, exchangeHeaders, exchangeRst, msalHeaders, msalRst } from '../protocols/wstrust/rst-fixtures.js';
import { msalFault, msalToken, post } from '../protocols/wstrust/wstrust-client.js';

/**
 * The password spray of issue 8 against a real AD (Samba, which locks an account after
 * AD_LOCKOUT_THRESHOLD bad passwords): many wrong passwords for one user from an address the user
 * never signed in from must never lock the AD account, while the user, from an address they did
 * sign in from, still signs in during the attack. The account is the test's own (a fresh one per
 * run): locking a shared user would break every other test file.
 */
const NAME = `spray${process.pid}`.slice(0, 20);
const PASSWORD = `Passw0rd!${NAME}`;
const UPN = `${NAME}@${TEST_DOMAIN}`;
const HOME = '203.0.113.5';
const ATTACKER = '198.51.100.66';
const SPRAY = 4 * AD_LOCKOUT_THRESHOLD;

/** badPwdCount or lockoutTime as the DC stores it (absent = 0), read with Samba's own tool. */
function adAttribute(attribute: 'badPwdCount' | 'lockoutTime'): number {
  try {
    return Number(sambaLdbsearch(`(sAMAccountName=${NAME})`, attribute));
  } catch (err) {
    if ((err as Error).message.includes(`no ${attribute}`)) return 0;
    throw err;
  }
}

/** A browser at `ip`, as the trusted proxy in front of fedgate reports it. */
const browserAt = (t: TestApp, ip: string): Agent => request.agent(t.app).set('X-Forwarded-For', ip) as Agent;

describe('password spray against Samba AD (smart lockout)', () => {
  let t: TestApp;
  beforeAll(async () => {
    await createSambaUser(NAME, PASSWORD);
    // Strangers get one guess at the DC, the owner two attempts (a typo, then the right password):
    // the DC sees at most two bad passwords, below its threshold of three.
    t = await startTestApp({
      server: { baseUrl: 'http://127.0.0.1:8080', trustProxy: 1 },
      relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains: [TEST_DOMAIN] }],
      signIn: { unfamiliarMaxFailuresPerUser: 1, maxFailuresPerUser: 2 },
    }, { directoryConfig: sambaDirectoryConfig() });
  });
  afterAll(async () => {
    await t?.services.directory.close();
  });

  it('many wrong passwords from an unfamiliar address never lock the AD account; the owner still signs in from home', async () => {
    expect((await signIn(t.app, UPN, PASSWORD, browserAt(t, HOME))).res.status).toBe(303);
    expect(adAttribute('badPwdCount')).toBe(0);

    const statuses: number[] = [];
    for (let i = 0; i < SPRAY; i++) statuses.push((await signIn(t.app, UPN, `Wrong!Passw0rd${i}`, browserAt(t, ATTACKER))).res.status);
    expect(statuses).toEqual([401, ...Array<number>(SPRAY - 1).fill(429)]);
    // Only the first guess reached the DC.
    expect(adAttribute('badPwdCount')).toBe(1);
    expect(adAttribute('lockoutTime')).toBe(0);

    // The right password from the attacker's address is refused the same way: nothing tells it was right.
    const wrong = (await signIn(t.app, UPN, 'Wrong!Passw0rdX', browserAt(t, ATTACKER))).res;
    const right = (await signIn(t.app, UPN, PASSWORD, browserAt(t, ATTACKER))).res;
    expect([wrong.status, right.status]).toEqual([429, 429]);
    const visible = (html: string) => html.replace(/value="[^"]*"/g, '').replace(/nonce-[^'"]+|nonce="[^"]*"/g, '');
    expect(visible(right.text)).toBe(visible(wrong.text));
    expect(t.audits('signin.rate_limited')).toHaveLength(SPRAY + 1);
    expect(t.audits('signin.rate_limited').every((e) => e.outcome === 'unfamiliar-lockout' && e.clientIp === ATTACKER)).toBe(true);

    // The owner, from home, during the attack: a typo reaches the DC (the familiar budget), then the right password signs in.
    expect((await signIn(t.app, UPN, 'Typo!Passw0rd', browserAt(t, HOME))).res.status).toBe(401);
    expect(adAttribute('badPwdCount')).toBe(2);
    expect((await signIn(t.app, UPN, PASSWORD, browserAt(t, HOME))).res.status).toBe(303);
    expect(adAttribute('badPwdCount')).toBe(0);
    expect(adAttribute('lockoutTime')).toBe(0);
    expect(t.logText()).not.toContain(PASSWORD);
  });

  it('a parallel spray from strangers reaches the DC once: attempts are counted before it is asked', async () => {
    const botnet = '198.51.100.77';
    const statuses = await Promise.all(Array.from({ length: SPRAY }, (_, i) =>
      signIn(t.app, UPN, `Wrong!Passw0rd${i}`, browserAt(t, botnet)).then(({ res }) => res.status)));
    expect(statuses.sort()).toEqual([401, ...Array<number>(SPRAY - 1).fill(429)]);
    expect(adAttribute('badPwdCount')).toBe(1);
    expect((await signIn(t.app, UPN, PASSWORD, browserAt(t, HOME))).res.status).toBe(303);
    expect(adAttribute('badPwdCount')).toBe(0);
  });

  it('a spray through Exchange Online on WS-Trust usernamemixed never locks the AD account; the owner\'s MSAL sign-in still works', async () => {
    // Exchange Online proxies basic auth: its own address reaches fedgate, the attacker's is in x-ms-forwarded-client-ip.
    const throughExchange = { ...exchangeHeaders, 'X-Forwarded-For': '192.0.2.50', 'X-MS-Forwarded-Client-IP': '198.51.100.88' };
    const spray = (password: string) => post(t, endpointPath('2005'), exchangeRst({ username: UPN, password }), throughExchange);
    const faults = [];
    for (let i = 0; i < SPRAY; i++) faults.push(await spray(`Wrong!Passw0rd${i}`));
    expect(faults.map((f) => [f.status, msalFault(f.text).code])).toEqual(Array(SPRAY).fill([500, 'a:FailedAuthentication']));
    expect(adAttribute('badPwdCount')).toBe(1);
    expect(adAttribute('lockoutTime')).toBe(0);
    // The right password through the same path: the same fault, nothing tells it was right.
    const right = await spray(PASSWORD);
    expect([right.status, msalFault(right.text)]).toEqual([faults[0]!.status, msalFault(faults[0]!.text)]);
    expect(t.audits('signin.rate_limited').filter((e) => e.clientIp === '192.0.2.50').map((e) => e.outcome))
      .toEqual(Array(SPRAY).fill('unfamiliar-lockout'));
    // The owner at home, over MSAL's 1.3 endpoint, during the attack.
    const owner = await post(t, endpointPath('13'), msalRst('13', { username: UPN, password: PASSWORD }), { ...msalHeaders('13'), 'X-Forwarded-For': HOME });
    expect(owner.status, owner.text).toBe(200);
    expect(msalToken(owner.text)).toBeDefined();
    expect(adAttribute('badPwdCount')).toBe(0);
  });

  it('a password checked without a browser (WS-Trust) is unfamiliar when any presented address is', async () => {
    const ctx = { clientIp: HOME, requestId: 'spray-test' };
    const check = (password: string, addresses: readonly string[]) => t.services.pipeline.authenticatePassword(
      { login: UPN, password, application: 'urn:federation:MicrosoftOnline', addresses }, ctx);
    // A proxied request: the proxy's address is familiar, the client it forwards is the attacker.
    for (let i = 0; i < SPRAY; i++) await check(`Wrong!Passw0rd${i}`, [HOME, ATTACKER]);
    expect(await check(PASSWORD, [HOME, ATTACKER])).toEqual({ kind: 'failed', reason: 'rate-limited' });
    expect(adAttribute('badPwdCount')).toBeLessThan(AD_LOCKOUT_THRESHOLD);
    expect(adAttribute('lockoutTime')).toBe(0);
    expect(await check(PASSWORD, [HOME])).toMatchObject({ kind: 'authenticated' });
    // Without addresses it is the request's own client address (HOME).
    expect(await t.services.pipeline.authenticatePassword({ login: UPN, password: PASSWORD, application: 'urn:federation:MicrosoftOnline' }, ctx))
      .toMatchObject({ kind: 'authenticated' });
    expect(adAttribute('badPwdCount')).toBe(0);
  });
});
