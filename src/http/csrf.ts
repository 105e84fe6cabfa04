import { randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../core/constant-time.js';
import type { Request, Response } from 'express';
import { IdpError } from '../core/errors.js';
import { cookieName, readCookie, setCookie } from './cookies.js';
import { formParam } from './params.js';

/**
 * Double-submit CSRF protection for forms shown before anyone is signed in (the sign-in form):
 * a random HttpOnly cookie, and the same value in a hidden field. Another site can make a browser
 * post our form, but can neither read nor set the cookie, so it cannot supply the field. Compared
 * in constant time.
 */
const COOKIE = 'fedgate_csrf';
const cookieFor = (secure: boolean) => cookieName(COOKIE, secure);
const TOKEN = /^[A-Za-z0-9_-]{32,64}$/;

export function csrfToken(req: Request, res: Response, secure: boolean): string {
  const existing = readCookie(req, cookieFor(secure));
  if (existing && TOKEN.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  setCookie(res, cookieFor(secure), token, { secure });
  return token;
}

/** Throws csrf_failed unless the form's `csrf` field matches the CSRF cookie. */
export function verifyCsrf(req: Request, secure: boolean): void {
  verifyCsrfToken(req, readCookie(req, cookieFor(secure)));
}

/** Throws csrf_failed unless the form's `csrf` field matches `expected` (e.g. a session's token). */
export function verifyCsrfToken(req: Request, expected: string | undefined): void {
  const submitted = formParam(req, 'csrf');
  if (!expected || !submitted || !constantTimeEqual(expected, submitted)) {
    throw new IdpError('csrf_failed', 'Your session for this page has expired. Go back, reload the page and try again.',
      expected ? 'csrf field does not match' : 'csrf cookie missing');
  }
}
