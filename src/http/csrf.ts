import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { IdpError } from '../core/errors.js';
import { readCookie, setCookie } from './cookies.js';
import { formParam } from './params.js';

/**
 * Double-submit CSRF protection for forms shown before anyone is signed in (the sign-in form):
 * a random HttpOnly cookie, and the same value in a hidden field. Another site can make a browser
 * post our form, but can neither read nor set the cookie, so it cannot supply the field. Compared
 * in constant time.
 */
const COOKIE = 'fedgate_csrf';
const TOKEN = /^[A-Za-z0-9_-]{32,64}$/;

export function csrfToken(req: Request, res: Response, secure: boolean): string {
  const existing = readCookie(req, COOKIE);
  if (existing && TOKEN.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  setCookie(res, COOKIE, token, { secure });
  return token;
}

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Throws csrf_failed unless the form's `csrf` field matches `expected` (the cookie by default). */
export function verifyCsrf(req: Request, expected: string | undefined = readCookie(req, COOKIE)): void {
  const submitted = formParam(req, 'csrf');
  if (!expected || !submitted || !constantTimeEqual(expected, submitted)) {
    throw new IdpError('csrf_failed', 'Your session for this page has expired. Go back, reload the page and try again.',
      expected ? 'csrf field does not match' : 'csrf cookie missing');
  }
}
