import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/directory/file/password-hash.js';
import { redisServer, type RedisServer } from '../harness/redis.js';
import { startTwoNodes, type TwoNodes } from '../harness/two-nodes.js';
import { isSignInForm, openLoginForm, sessionSetCookie, type Agent } from '../http/sign-in-flow.js';
import { ALICE, authorizeRedirect, expectAccepted, samlSignIn, samlSp, SP_CERT, spClient } from '../protocols/saml/sp-client.js';
import { walkLogout } from '../protocols/saml/slo-walk.js';
import { readAutopost } from '../protocols/wsfed/autopost.js';

/**
 * Two fedgate nodes on one real Redis behave as one IdP: a session made on one node is a session
 * on the other (single sign-on, sign-out), lockout counters are shared, and losing a node loses
 * no sign-in that reaches the other.
 */
const APP_A = { protocol: 'wsfed', identifier: 'urn:test:app-a', displayName: 'App A', replyUrls: ['https://app-a.test/signin-wsfed'] };
const APP_B = { protocol: 'wsfed', identifier: 'urn:test:app-b', displayName: 'App B', replyUrls: ['https://app-b.test/signin-wsfed'] };
const SP = samlSp('sp-nodes', { signingCertificates: [SP_CERT] });
const BOB = { login: 'DEMO\\bob', password: ALICE.password };
/** Sign-ins under load are by different people: one person's parallel attempts are rate-limited. */
const LOAD_USERS = Array.from({ length: 12 }, (_, i) => ({ login: `load${i}@demo.fedgate.test`, password: ALICE.password }));

/** alice (as the SAML helpers know her), bob and the load users, all with alice's password. */
async function writeUsers(): Promise<string> {
  const hash = await hashPassword(ALICE.password);
  const users = ['alice', 'bob', ...LOAD_USERS.map((u) => u.login.split('@')[0]!)].map((name) =>
    `  - username: ${name}\n    passwordHash: "${hash}"\n    userPrincipalName: ${name}@demo.fedgate.test\n    objectGuid: ${randomUUID()}\n`).join('');
  const path = join(mkdtempSync(join(tmpdir(), 'fedgate-nodes-users-')), 'users.yaml');
  writeFileSync(path, `netbiosDomain: DEMO\nusers:\n${users}`);
  return path;
}

const wsfedSignIn = (realm: string) => `/wsfed?${new URLSearchParams({ wa: 'wsignin1.0', wtrealm: realm })}`;

let redis: RedisServer;
let nodes: TwoNodes;
beforeAll(async () => {
  redis = await redisServer();
  nodes = await startTwoNodes(redis, {
    directory: { type: 'file', path: await writeUsers() },
    relyingParties: [APP_A, APP_B, SP.config],
    signIn: { maxFailuresPerUser: 3, unfamiliarMaxFailuresPerUser: 3, maxAttemptsPerIpPerMinute: 1000, maxStartsPerIpPerMinute: 1000 },
  });
});
afterAll(async () => {
  await nodes.close();
  await redis.stop();
});

/** Opens the sign-in form of a WS-Fed sign-in (pending sign-in stored by the node serving it). */
async function openForm(agent: Agent, realm = APP_A.identifier) {
  // The wsignin1.0 is answered with the form itself (openLoginForm checks it).
  const { pending, csrf } = await openLoginForm(agent, wsfedSignIn(realm));
  return { pending, csrf };
}

const submit = (agent: Agent, form: { pending: string; csrf: string }, user: { login: string; password: string }) =>
  agent.post('/login').type('form').send({ ...form, UserName: user.login, Password: user.password });

/** A whole WS-Fed sign-in through the password form; returns the auto-post page's form. */
async function signInWsfed(agent: Agent, user = ALICE, realm = APP_A.identifier) {
  // The form's POST is answered with the auto-post page itself.
  const posted = await submit(agent, await openForm(agent, realm), user);
  expect(posted.status, posted.text.slice(0, 300)).toBe(200);
  expect(isSignInForm(posted), 'the token page, not the form again').toBe(false);
  return readAutopost(posted.text);
}

describe('two nodes on one Redis', () => {
  it('signed in on A: single sign-on on B for WS-Fed and SAML; sign-out on B ends the session on A too', async () => {
    const agent = request.agent(nodes.balancer);
    nodes.route('a');
    expect((await signInWsfed(agent)).action).toBe(APP_A.replyUrls[0]);

    nodes.route('b');
    const wsfed = await agent.get(wsfedSignIn(APP_B.identifier));
    expect(wsfed.status, wsfed.text.slice(0, 300)).toBe(200);
    expect(isSignInForm(wsfed), 'single sign-on, not the form').toBe(false);
    expect(wsfed.headers['x-test-node']).toBe('b');
    expect(readAutopost(wsfed.text).action).toBe(APP_B.replyUrls[0]);
    const sp = spClient(nodes.b, SP);
    const saml = await samlSignIn(agent, await authorizeRedirect(sp));
    expect(saml.loginShown).toBe(false);
    const profile = await expectAccepted(nodes.b, sp, saml.form);

    // Sign-out on B: B tells the SAML SP, whose answer reaches A; A ends the logout run B
    // started and its page cleans up app A (signed into on A): runs and participants are shared.
    const out = await agent.get(`/adfs/ls/?${new URLSearchParams({ wa: 'wsignout1.0', wreply: APP_B.replyUrls[0]! })}`);
    nodes.route('a');
    const { final, told } = await walkLogout(agent, out, [{ def: SP, sp, profile }]);
    expect([...told.keys()]).toEqual([SP.entityId]);
    expect(final.status).toBe(200);
    expect(final.headers['x-test-node']).toBe('a');
    expect(final.text).toContain('src="https://app-a.test/signin-wsfed?wa=wsignoutcleanup1.0"');
    nodes.route('a');
    const after = await agent.get(wsfedSignIn(APP_A.identifier));
    expect(isSignInForm(after), 'signed out: the form again').toBe(true);
    expect(after.headers['x-test-node']).toBe('a');
  });

  it('smart lockout counts failures on both nodes: two on A and one on B hold the user back everywhere', async () => {
    const agent = request.agent(nodes.balancer);
    const wrong = { login: BOB.login, password: 'wrong' };
    for (const node of ['a', 'a', 'b'] as const) {
      nodes.route(node);
      expect((await submit(agent, await openForm(agent), wrong)).status).toBe(401);
    }
    for (const node of ['b', 'a'] as const) {
      nodes.route(node);
      const held = await submit(agent, await openForm(agent), BOB);
      expect(held.status).toBe(429);
      expect(held.text).toContain('Too many sign-in attempts');
    }
    // Each node asked the directory only for its own attempts, and no more after the limit.
    expect(nodes.a.audits('signin.failure')).toHaveLength(2);
    expect(nodes.b.audits('signin.failure')).toHaveLength(1);
  });

  it('node A dies mid-load: every sign-in that reaches B succeeds, including those A started, and A\'s sessions work on B', async () => {
    nodes.route('a');
    const signedInOnA = Array.from({ length: 3 }, () => request.agent(nodes.balancer));
    for (const agent of signedInOnA) await signInWsfed(agent);
    const started = await Promise.all(Array.from({ length: 12 }, async () => {
      const agent = request.agent(nodes.balancer);
      return { agent, form: await openForm(agent) };
    }));

    // Half the credentials go out while A is alive, then A dies while they are in flight.
    let dying: () => void = () => undefined;
    const killed = new Promise<void>((resolve) => { dying = resolve; });
    const finishing = started.map(async ({ agent, form }, i) => {
      if (i >= started.length / 2) await killed;
      const posted = await submit(agent, form, LOAD_USERS[i]!);
      if (posted.headers['x-test-node'] !== 'b') return { node: 'a', ok: undefined };
      // The POST is answered with the auto-post page itself.
      return { node: 'b', ok: posted.status === 200 && !isSignInForm(posted) && readAutopost(posted.text).action === APP_A.replyUrls[0] };
    });
    const death = nodes.killA();
    dying();
    await death;
    const outcomes = await Promise.all(finishing);
    const onB = outcomes.filter((o) => o.node === 'b');
    expect(onB.length).toBeGreaterThanOrEqual(started.length / 2);
    expect(onB.every((o) => o.ok)).toBe(true);

    for (const agent of signedInOnA) {
      const sso = await agent.get(wsfedSignIn(APP_B.identifier));
      expect(sso.status).toBe(200);
      expect(isSignInForm(sso), 'single sign-on, not the form').toBe(false);
      expect(readAutopost(sso.text).action).toBe(APP_B.replyUrls[0]);
      expect(sso.headers['x-test-node']).toBe('b');
      expect(sessionSetCookie(sso)).toBeUndefined(); // the same session, not a new one
    }
  });
});
