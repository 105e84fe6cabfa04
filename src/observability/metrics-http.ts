import type { Request } from 'express';
import { Histogram, type Registry } from 'prom-client';
import { oidcIssuer, type Config } from '../config/schema.js';
import type { RequestFinished } from '../http/request-log.js';
import { SAML_RESUME_PATH, SAML_SSO_PATH } from '../protocols/saml/sso-routes.js';
import { WSFED_PATHS, WSFED_RESUME_PATH } from '../protocols/wsfed/wsfed-routes.js';
import { WSTRUST_BASE_PATH } from '../protocols/wstrust/wstrust-routes.js';
import type { TokenMetricMark, TokenProtocol } from './token-mark.js';

export type RequestObserver = RequestFinished;

export type { TokenProtocol };

/** A token answer the fast lane wrote (fast-lane.ts): Express's request hooks never see it. */
export type TokenObserver = (protocol: TokenProtocol, status: number, seconds: number) => void;

/** A protocol parameter from the query or the form body (SOAP bodies are Buffers and carry none). */
function param(req: Request, query: URLSearchParams, name: string): unknown {
  const body: unknown = req.body;
  return query.get(name) ?? (body && typeof body === 'object' && !Buffer.isBuffer(body) ? (body as Record<string, unknown>)[name] : undefined);
}

/**
 * Which protocol's token endpoint a request was, by path (and, on /adfs/ls, which AD FS shares
 * between WS-Fed and SAML, by its parameters): the endpoints where a token is answered, directly
 * (single sign-on, WS-Trust, the OIDC token endpoint) or after the sign-in form (resume). Read from
 * originalUrl: by the time a response finishes, a mounted router may have rewritten req.url.
 */
function tokenProtocol(req: Request, oidcToken: string): TokenProtocol | undefined {
  const url = new URL(req.originalUrl, 'http://fedgate');
  // Express routes ignore case and a trailing slash: so must the label.
  const path = url.pathname.toLowerCase().replace(/\/+$/, '');
  if (path === WSFED_RESUME_PATH) return 'wsfed';
  if (path === SAML_RESUME_PATH || path === SAML_SSO_PATH || path === '/saml/idp-initiated') return 'saml';
  if ((WSFED_PATHS as readonly string[]).includes(path)) {
    if (param(req, url.searchParams, 'SAMLRequest') !== undefined) return 'saml';
    if (param(req, url.searchParams, 'wa') === 'wsignin1.0') return 'wsfed';
    return undefined; // sign-out, or not understood
  }
  if (path.startsWith(`${WSTRUST_BASE_PATH}/`) && /\/(usernamemixed|windowstransport)$/.test(path)) return 'wstrust';
  if (path === oidcToken) return 'oidc';
  return undefined;
}

/**
 * fedgate_token_request_duration_seconds: response times of the token endpoints, by protocol and
 * status class. 2xx are tokens answered (single sign-on, or the sign-in form's POST; on /adfs/ls
 * also SAML logout messages), 3xx sends to the sign-in page at /login (Kerberos, SAML's POST binding), 4xx/5xx
 * refusals; the whole request is timed, so the directory and the state store are in it. The form
 * itself is not a token answer and is not counted.
 */
export function tokenRequestObserver(config: Config, registers: Registry[]): { observeRequest: RequestObserver; observeToken: TokenObserver } {
  const oidcToken = `${new URL(oidcIssuer(config)).pathname.toLowerCase().replace(/\/+$/, '')}/token`;
  const histogram = new Histogram({
    name: 'fedgate_token_request_duration_seconds', help: 'Token endpoint response times by protocol (wsfed, saml, wstrust, oidc) and status class.',
    labelNames: ['protocol', 'status'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
  });
  const observeToken: TokenObserver = (protocol, status, seconds) => histogram.observe({ protocol, status: `${Math.floor(status / 100)}xx` }, seconds);
  return {
    observeRequest: (req, status, seconds) => {
      const mark = (req.res?.locals ?? {}) as TokenMetricMark;
      if (mark.signInForm) return;
      const protocol = mark.tokenProtocol ?? tokenProtocol(req, oidcToken);
      if (protocol) observeToken(protocol, status, seconds);
    },
    observeToken,
  };
}
