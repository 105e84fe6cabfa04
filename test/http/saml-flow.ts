import { deflateRawSync } from 'node:zlib';
import { expect } from 'vitest';
import { asksSignIn, formOf, type Agent } from './sign-in-flow.js';

/**
 * A SAML SP's side of the browser round trip, for HTTP tests: the message encoded for its binding,
 * sent, and (when fedgate asks who the person is) the sign-in form filled in, up to the page that
 * answers the SP (an auto-post form, or an error page).
 */

/** HTTP-POST binding: base64 of the XML (saml-bindings §3.5.4). */
export const postEncoded = (xml: string): string => Buffer.from(xml, 'utf8').toString('base64');

/** HTTP-Redirect binding: raw DEFLATE, then base64 (saml-bindings §3.4.4.1); URL-encode it into the query. */
export const redirectEncoded = (xml: string): string => deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64');

export interface Credentials {
  readonly login: string;
  readonly password: string;
}

/** Sends the form to `path` by POST; signs in with `credentials` when the sign-in page is asked for. */
export async function postSamlRequest(agent: Agent, fields: Record<string, string>, credentials?: Credentials, path = '/saml/sso') {
  return signInIfAsked(agent, await agent.post(path).type('form').send(fields), credentials);
}

/** When the answer is the sign-in form, signs in and returns what the form's POST answers; any other answer as is. */
export async function signInIfAsked(agent: Agent, res: Awaited<ReturnType<Agent['get']>>, credentials?: Credentials) {
  if (!credentials || !asksSignIn(res)) return res;
  const { pending, csrf } = await formOf(agent, res);
  return agent.post('/login').type('form').send({ pending, csrf, UserName: credentials.login, Password: credentials.password });
}
