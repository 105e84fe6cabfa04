import type { Response } from 'express';

/**
 * Per-page changes to the Content-Security-Policy helmet sets on every response: helmet's policy
 * stays the one source of the other directives, and a protocol page only names the few URLs it
 * must reach (a reply URL to post a token to, cleanup frames). A URL that could break out of a
 * directive (space, quote, semicolon, comma) is never written into the header.
 */
const UNSAFE_SOURCE = /[\s;,']/;

export function withCspSources(csp: string, directive: string, sources: readonly string[], mode: 'add' | 'replace'): string {
  const safe = sources.filter((s) => !UNSAFE_SOURCE.test(s));
  const parts = csp.split(';').map((p) => p.trim()).filter(Boolean);
  const index = parts.findIndex((p) => p.split(/\s+/)[0] === directive);
  if (index < 0) return [...parts, `${directive} ${safe.join(' ')}`].join(';');
  const current = parts[index]!.split(/\s+/).slice(1);
  const next = mode === 'add' ? [...current, ...safe.filter((s) => !current.includes(s))] : safe;
  parts[index] = `${directive} ${next.join(' ')}`;
  return parts.join(';');
}

/**
 * A protocol page that posts only to the reply URLs (form-action also matches the path) or frames
 * only the given logout URLs: helmet's policy with that one directive narrowed or added.
 */
export function narrowPageCsp(res: Response, directive: 'form-action' | 'frame-src', urls: readonly string[]): void {
  const csp = String(res.getHeader('Content-Security-Policy') ?? "default-src 'self'");
  res.setHeader('Content-Security-Policy', withCspSources(csp, directive, [...new Set(urls)], 'replace'));
}
