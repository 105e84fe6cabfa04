import type { IncomingMessage } from 'node:http';
import type { Response } from 'express';
import type { SsoSession } from '../session/sessions.js';
import { clearCookie, cookieName, readCookie, setCookie } from './cookies.js';

/**
 * The SSO session cookie: HttpOnly, SameSite=Lax, Secure whenever the public URL is https. A
 * browser-session cookie unless the person chose "keep me signed in".
 */
export interface SessionCookie {
  read(req: Pick<IncomingMessage, 'headers'>): string | undefined;
  set(res: Response, id: string, session: SsoSession): void;
  clear(res: Response): void;
}

export function createSessionCookie(configuredName: string, secure: boolean, now: () => number = Date.now): SessionCookie {
  const name = cookieName(configuredName, secure);
  return {
    read: (req) => readCookie(req, name),
    set: (res, id, session) =>
      setCookie(res, name, id, session.persistent ? { secure, maxAgeMs: session.expiresAt - now() } : { secure }),
    clear: (res) => clearCookie(res, name, { secure }),
  };
}
