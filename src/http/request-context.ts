import type { Request } from 'express';
import type { RequestContext } from '../authn/sign-in-pipeline.js';

/**
 * The protocol-neutral context of a request. The client address is req.ip, which Express derives
 * from `server.trustProxy`: the one place proxy headers are believed.
 */
export function requestContext(req: Request): RequestContext {
  return { clientIp: req.ip ?? req.socket.remoteAddress ?? 'unknown', requestId: String(req.id) };
}
