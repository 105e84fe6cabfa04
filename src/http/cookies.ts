import { parseCookie, stringifySetCookie, type SerializeOptions } from 'cookie';
import type { IncomingMessage } from 'node:http';
import type { Response } from 'express';

/** Cookies are parsed here and nowhere else; every cookie we set is HttpOnly and SameSite=Lax. */
/**
 * Over https every cookie gets the __Host- prefix: the browser then accepts it only from this
 * host, Secure, for path /, so a sibling sub-domain can neither plant nor overwrite it (no
 * forced sign-in with an attacker's CSRF cookie, no swapped session).
 */
export function cookieName(name: string, secure: boolean): string {
  return secure ? `__Host-${name}` : name;
}

export function readCookie(req: Pick<IncomingMessage, 'headers'>, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  return parseCookie(header)[name];
}

export interface CookieOptions {
  /** Secure flag: on whenever fedgate is reached over https. */
  readonly secure: boolean;
  /** Persistent cookie lifetime; omitted = a browser-session cookie. */
  readonly maxAgeMs?: number;
}

export function setCookie(res: Response, name: string, value: string, options: CookieOptions): void {
  const attributes: SerializeOptions = { httpOnly: true, sameSite: 'lax', path: '/', secure: options.secure };
  if (options.maxAgeMs !== undefined) attributes.maxAge = Math.floor(options.maxAgeMs / 1000);
  res.append('Set-Cookie', stringifySetCookie(name, value, attributes));
}

export function clearCookie(res: Response, name: string, options: CookieOptions): void {
  res.append('Set-Cookie', stringifySetCookie(name, '', { httpOnly: true, sameSite: 'lax', path: '/', secure: options.secure, maxAge: 0 }));
}
