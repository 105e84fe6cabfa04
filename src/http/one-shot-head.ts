import type { RequestHandler } from 'express';

/**
 * HEAD is GET without the body to Express. On the endpoints that issue a token or take one-shot
 * state (a pending sign-in, an AuthnRequest ID, an authorization) a HEAD (a link checker, a
 * prefetch) would spend it on a request that never shows the page, and the person's own GET would
 * then fail: those endpoints do not allow HEAD. Paths as Express matches them: any case, with or
 * without a trailing slash; `prefixes` cover a provider's sub-paths.
 */
export function refuseHeadOn(paths: readonly string[], prefixes: readonly string[]): RequestHandler {
  const exact = new Set(paths.map((p) => p.toLowerCase()));
  return (req, res, next) => {
    if (req.method !== 'HEAD') return next();
    const path = req.path.toLowerCase().replace(/\/+$/, '');
    if (!exact.has(path) && !prefixes.some((prefix) => path.startsWith(prefix))) return next();
    res.set('Allow', 'GET, POST').status(405).end();
  };
}
