import request from 'supertest';
import type { App } from '../../src/app.js';
import { expect } from 'vitest';

/**
 * Drives the sign-in form as a browser would (supertest agent = a cookie jar): start at /signin,
 * read the form's hidden fields, post the credentials. Returns the agent and the last response.
 */
export type Agent = ReturnType<typeof request.agent>;

/** The Location header of a redirect (fails the test when there is none). */
export function location(res: { headers: Record<string, unknown> }): string {
  const value = res.headers.location;
  if (typeof value !== 'string') throw new Error('expected a redirect with a Location header');
  return value;
}

/** The Set-Cookie line of the session cookie in a response, if any. */
export function sessionSetCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const raw = res.headers['set-cookie'];
  const lines = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
  return lines.find((c) => c.startsWith('fedgate_session='));
}

export function hiddenField(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no hidden field ${name} in page`);
  return m[1]!;
}

/** Whether a response is the sign-in form (an application's request answered with it, or /login's). */
export function isSignInForm(res: { status: number; text: string }): boolean {
  return res.status === 200 && /name="pending" value="[^"]+"/.test(res.text);
}

/** Whether a response asks for a sign-in: the form itself, or the redirect to /login (Kerberos, SAML POST binding). */
export function asksSignIn(res: { status: number; text: string; headers: Record<string, unknown> }): boolean {
  return isSignInForm(res) || (res.status === 303 && typeof res.headers.location === 'string' && res.headers.location.startsWith('/login?pending='));
}

/**
 * The sign-in form a response leads to: the response itself (the application's request is
 * answered with the form), or /login after the redirect that remains when Kerberos may be offered.
 */
export async function formOf(agent: Agent, res: Awaited<ReturnType<Agent['get']>>) {
  const form = res.status === 303 && location(res).startsWith('/login?') ? await agent.get(location(res)) : res;
  expect(form.status, form.text.slice(0, 300)).toBe(200);
  expect(isSignInForm(form), 'the sign-in form').toBe(true);
  return { pending: hiddenField(form.text, 'pending'), csrf: hiddenField(form.text, 'csrf'), form };
}

export async function openLoginForm(agent: Agent, start = '/signin') {
  const started = await agent.get(start);
  // The form is the answer to the start itself: no redirect to /login (sign-in-steps.ts).
  expect(isSignInForm(started), `${start} answers with the sign-in form`).toBe(true);
  return formOf(agent, started);
}

export async function signIn(app: App, login: string, password: string, agent: Agent = request.agent(app)) {
  const { pending, csrf } = await openLoginForm(agent);
  const res = await agent.post('/login').type('form').send({ pending, csrf, UserName: login, Password: password });
  return { agent, res, pending };
}
