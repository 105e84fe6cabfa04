import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import type { RequestContext } from '../authn/sign-in-pipeline.js';

/**
 * Every request gets an id of ours (an incoming X-Request-Id is not trusted: it would let a client
 * forge log correlation). It is on every log line, in the X-Request-Id response header and on the
 * error page. The client address is req.ip, which Express derives from `server.trustProxy`: the one
 * place proxy headers are believed.
 */
export function newRequestId(): string {
  return randomUUID();
}

export function requestContext(req: Request): RequestContext {
  return { clientIp: req.ip ?? req.socket.remoteAddress ?? 'unknown', requestId: String(req.id) };
}
