import type { Request } from 'express';
import type { RequestContext } from '../authn/sign-in-pipeline.js';
import { cookieName, readCookie } from './cookies.js';

/** Set with the Negotiate challenge (login-routes.ts): the pending sign-in it was sent for. */
export const NEGOTIATE_COOKIE = 'fedgate_negotiate';

/** The app setting that says cookies are set over https, __Host- prefixed (app.ts; cookies.ts). */
export const SECURE_COOKIES_SETTING = 'fedgate secure cookies';

/**
 * The protocol-neutral context of a request. The client address is req.ip, which Express derives
 * from `server.trustProxy`: the one place proxy headers are believed.
 */
export function requestContext(req: Request): RequestContext {
  const clientIp = req.ip ?? req.socket.remoteAddress ?? 'unknown';
  // A browser answering the challenge repeats its request with the ticket (and the cookie).
  const challenged = /^Negotiate\s/i.test(req.headers.authorization ?? '')
    ? readCookie(req, cookieName(NEGOTIATE_COOKIE, req.app?.get(SECURE_COOKIES_SETTING) === true)) : undefined;
  return challenged === undefined ? { clientIp, requestId: String(req.id) } : { clientIp, requestId: String(req.id), challengedPendingId: challenged };
}
