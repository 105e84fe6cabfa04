import type { ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/** The response headers every page and answer carries, as [name, value] pairs. */
export type HeaderList = readonly (readonly [string, string])[];

/**
 * The security headers of every response, from helmet's policy (the one source of them). They do
 * not depend on the request, so helmet runs once at start-up and its headers are replayed: a
 * dozen middleware calls per request saved, and the fast lane (fast-lane.ts) writes the very same
 * list. Pages that post or frame elsewhere narrow the CSP per response (csp.ts).
 */
export function securityHeaders(secure: boolean): HeaderList {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string) => headers.set(name, value),
    removeHeader: (name: string) => headers.delete(name),
  };
  let failed: unknown;
  helmet({
    contentSecurityPolicy: {
      directives: {
        'default-src': ["'self'"], 'script-src': ["'self'"], 'form-action': ["'self'"], 'frame-ancestors': ["'none'"],
        // Over plain http (the demo, a lab) upgrading would send the sign-in form to an https port that isn't there.
        'upgrade-insecure-requests': secure ? [] : null,
      },
    },
    strictTransportSecurity: secure,
  })({} as never, recorder as unknown as ServerResponse, (err?: unknown) => { failed = err; });
  if (failed !== undefined) throw failed;
  return [...headers];
}

export const CSP_HEADER = 'Content-Security-Policy';

/** The default Content-Security-Policy of the list (every list has one). */
export function defaultCsp(headers: HeaderList): string {
  return headers.find(([name]) => name === CSP_HEADER)![1];
}

export function securityHeadersMiddleware(headers: HeaderList): RequestHandler {
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}
