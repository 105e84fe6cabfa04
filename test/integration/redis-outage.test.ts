import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServices } from '../../src/services.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { redisServer, type RedisServer } from '../harness/redis.js';
import { openLoginForm, sessionSetCookie, signIn } from '../http/sign-in-flow.js';
import { ALICE, OIDC_CLIENTS, SERVICE, WEB_APP } from '../protocols/oidc/oidc-harness.js';

/**
 * Redis stops under a running fedgate and comes back: meanwhile every request that needs state
 * gets the "temporarily unavailable" page (503, no detail, no session) and /readyz says 503;
 * afterwards sign-in works again without restarting fedgate (sessions kept in Redis are lost
 * with a Redis that does not persist, which is acceptable).
 */
let redis: RedisServer;
let t: TestApp;
beforeAll(async () => {
  redis = await redisServer();
  t = await startTestApp({ state: { type: 'redis', url: redis.url }, relyingParties: OIDC_CLIENTS });
});
afterAll(async () => {
  await closeServices(t.services);
  await redis.stop();
});

const readiness = () => request(t.app).get('/readyz');

/** The 503 page: the plain message, nothing of Redis, no stack trace, no session. */
function expectUnavailablePage(res: { status: number; text: string; headers: Record<string, unknown> }): void {
  expect(res.status).toBe(503);
  expect(res.text).toContain('The sign-in service is temporarily unavailable');
  expect(res.text).not.toMatch(/redis|ioredis|ECONNREFUSED|Stream isn|\bat .*\.[jt]s:\d+/i);
  expect(sessionSetCookie(res)).toBeUndefined();
}

describe('Redis restarts under a running node', () => {
  it('down: sign-in answers 503 "temporarily unavailable" and /readyz 503; up again: sign-in works without a restart', async () => {
    expect((await readiness()).body.checks.state).toEqual({ ok: true });
    // A person is on the sign-in form when Redis goes away.
    const agent = request.agent(t.app);
    const { pending, csrf } = await openLoginForm(agent);
    await redis.stop();

    const posted = await agent.post('/login').type('form').send({ pending, csrf, UserName: ALICE.login, Password: ALICE.password });
    expectUnavailablePage(posted);
    expectUnavailablePage(await request(t.app).get('/signin'));
    // oidc-provider's own error page too: its interaction cannot be stored.
    const authorize = new URLSearchParams({ client_id: WEB_APP.client_id, redirect_uri: WEB_APP.redirect, response_type: 'code', scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    expectUnavailablePage(await request(t.app).get(`/oidc/auth?${authorize}`));
    // Its JSON endpoints: 503 with Retry-After and an error a client can act on, not a 500.
    const token = await request(t.app).post('/oidc/token').auth(SERVICE.client_id, SERVICE.secret).type('form').send({ grant_type: 'client_credentials' });
    expect(token.status).toBe(503);
    expect(token.headers['retry-after']).toBe('30');
    expect(token.body).toEqual({ error: 'temporarily_unavailable', error_description: 'The sign-in service is temporarily unavailable. Please try again in a few minutes.' });
    const ready = await readiness();
    expect(ready.status).toBe(503);
    expect(ready.body.checks.state).toEqual({ ok: false, detail: 'the state store (Redis) does not answer' });
    expect(ready.body.checks.directory.ok).toBe(true);
    // The log has the cause, the page did not.
    expect(t.logs().some((l) => l.code === 'state_unavailable' && typeof l.detail === 'string' && l.detail.includes('Redis state store'))).toBe(true);

    await redis.start();
    await expect.poll(async () => (await readiness()).status, { timeout: 10_000, interval: 100 }).toBe(200);
    const { res } = await signIn(t.app, ALICE.login, ALICE.password);
    expect(res.status, res.text.slice(0, 300)).toBe(303);
    expect(sessionSetCookie(res)).toBeDefined();
    // The pending sign-in of before is gone with Redis's memory: "start again", not a crash.
    const stale = await agent.post('/login').type('form').send({ pending, csrf, UserName: ALICE.login, Password: ALICE.password });
    expect(stale.status).toBeLessThan(500);
  });
});
