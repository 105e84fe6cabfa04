import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Logger } from '../observability/logger.js';
import { narrowCsp } from './csp.js';
import { CSP_HEADER, defaultCsp, type HeaderList } from './security-headers.js';

/**
 * The fast lane: the answers a signed-in person asks for most (a WS-Fed token or a SAML Response
 * from the SSO session, one GET each, every time they open an application) are written here on
 * node:http, before Express. Express's routing, middleware chain and response helpers cost more
 * than the RSA signature such an answer needs (README, Speed); this lane does the same work as
 * the Express route, through the same functions, with none of that.
 *
 * A handler answers or declines. It declines everything but the plain case: no session, a session
 * that does not satisfy the request, a malformed or repeated parameter, any error. What it declines
 * goes to Express, which answers it as it always has (the sign-in form, protocol errors, error pages,
 * their log lines): so the fast lane has no error paths of its own, and whatever it answers Express
 * would have answered the same way.
 */
export interface FastRequest {
  readonly req: IncomingMessage;
  /** The request id: the X-Request-Id header and every log line. */
  readonly id: string;
  /** The client address, proxy headers believed as server.trustProxy says (as Express's req.ip). */
  readonly clientIp: string;
  /** The query's parameters, each exactly once and no longer than the Express routes accept. */
  readonly query: Readonly<Record<string, string>>;
  readonly path: string;
  /** The request's logger: lines carry req.id, method and path as the Express routes' do. */
  readonly log: Logger;
}

export interface FastAnswer {
  readonly html: string;
  /** The registered URL the page's form posts to: its CSP lets the form go there (csp.ts). */
  readonly formAction: string;
  /** For the token latency histogram. */
  readonly protocol: 'wsfed' | 'saml';
}

export type FastHandler = (request: FastRequest) => Promise<FastAnswer | undefined>;

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface FastLaneOptions {
  /** Handlers by exact path (GET only). */
  readonly routes: ReadonlyMap<string, FastHandler>;
  readonly headers: HeaderList;
  readonly clientIp: (req: IncomingMessage) => string;
  readonly log: Logger;
  readonly observeToken: (protocol: 'wsfed' | 'saml', status: number, seconds: number) => void;
}

/** As the Express routes' strict parameters (params.ts): longer is a malformed request there. */
const MAX_PARAM_LENGTH = 8192;

function strictQuery(search: string): Record<string, string> | undefined {
  const parsed = parseQuery(search);
  const query: Record<string, string> = {};
  for (const name of Object.keys(parsed)) {
    const value = parsed[name];
    if (typeof value !== 'string' || value.length > MAX_PARAM_LENGTH) return undefined;
    query[name] = value;
  }
  return query;
}

export function withFastLane(options: FastLaneOptions, fallback: RequestListener): RequestListener {
  const { routes, headers, log } = options;
  const fixed = headers.filter(([name]) => name !== CSP_HEADER).flat();
  const csp = defaultCsp(headers);
  // Form targets are registered URLs, so there are few policies: each is worked out once (bounded all the same).
  const policies = new Map<string, string>();
  const policyFor = (formAction: string) => {
    let policy = policies.get(formAction);
    if (policy === undefined) {
      if (policies.size >= 1024) policies.clear();
      policies.set(formAction, (policy = narrowCsp(csp, 'form-action', [formAction])));
    }
    return policy;
  };

  const answer = async (req: IncomingMessage, res: ServerResponse, handler: FastHandler, path: string, search: string) => {
    const started = process.hrtime.bigint();
    const query = strictQuery(search);
    if (!query) return false;
    const id = randomUUID();
    let child: Logger | undefined;
    const request: FastRequest = {
      req, id, path, query, clientIp: options.clientIp(req),
      get log() { return (child ??= log.child({ req: { id, method: 'GET', path } })); },
    };
    const page = await handler(request);
    if (!page) return false;
    res.writeHead(200, [...fixed, CSP_HEADER, policyFor(page.formAction), 'X-Request-Id', id,
      'Content-Type', 'text/html; charset=utf-8', 'Cache-Control', 'no-store', 'Content-Length', String(Buffer.byteLength(page.html))]);
    // A string, not a Buffer: node:http then sends the head and the page in one write.
    res.end(page.html);
    options.observeToken(page.protocol, 200, Number(process.hrtime.bigint() - started) / 1e9);
    return true;
  };

  return (req, res) => {
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    // A raw '#' ends the URL for Express's parser and not for node:querystring: not ours.
    const handler = req.method === 'GET' && !url.includes('#') ? routes.get(path) : undefined;
    if (!handler) return fallback(req, res);
    answer(req, res, handler, path, mark < 0 ? '' : url.slice(mark + 1)).then(
      (answered) => { if (!answered) fallback(req, res); },
      (err: unknown) => {
        // Express meets the same error and answers it (its page, its log line with the reason).
        log.warn({ err: err instanceof Error ? err.message : String(err), path }, 'fast lane declined after an error; Express answers it');
        if (!res.headersSent) fallback(req, res);
      },
    );
  };
}
