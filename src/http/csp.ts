import type { ServerResponse } from 'node:http';

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
 * The form-action sources of a page that posts a token or a response to an application. Browsers
 * apply form-action to the redirects that follow the POST too (CSP3), and applications send people
 * on from their reply URL to hosts fedgate cannot know (Entra from login.srf to the application, an
 * SP from its ACS to the RelayState): so the reply URL's scheme is allowed beside the URL itself.
 * The form's action is written by fedgate from the registered URL alone and the page carries no
 * other content, so a narrower directive would protect nothing and break real sign-ins.
 */
export function formTargets(urls: readonly string[]): string[] {
  const schemes = urls.flatMap((u) => (/^https?:/i.test(u) ? [`${u.slice(0, u.indexOf(':')).toLowerCase()}:`] : []));
  return [...new Set([...urls, ...schemes])];
}

/**
 * A protocol page that posts only to the reply URLs (and where they redirect, see formTargets) or
 * frames only the given logout URLs: the default policy with that one directive narrowed or added.
 */
export function narrowCsp(csp: string, directive: 'form-action' | 'frame-src', urls: readonly string[]): string {
  const sources = directive === 'form-action' ? formTargets(urls) : [...new Set(urls)];
  return withCspSources(csp, directive, sources, 'replace');
}

/** narrowCsp on the policy this response already carries (security-headers.ts). */
export function narrowPageCsp(res: ServerResponse, directive: 'form-action' | 'frame-src', urls: readonly string[]): void {
  res.setHeader('Content-Security-Policy', narrowCsp(String(res.getHeader('Content-Security-Policy') ?? "default-src 'self'"), directive, urls));
}
