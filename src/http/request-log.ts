import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../observability/logger.js';

declare module 'node:http' {
  interface IncomingMessage {
    /** Our id for this request: every log line of it, the X-Request-Id header, the error page. */
    id: string;
    /** The logger of this request (its lines carry req.id), created on first use. */
    log: Logger;
  }
}

/**
 * Request ids and request logging. An incoming X-Request-Id is not trusted (it would let a
 * client forge log correlation). The request's logger is made only when something is logged, and
 * a completed request is logged at debug unless it failed: a line per request would cost more than
 * the token it logs at thousands per second, and sign-ins and tokens have lines of their own.
 * Headers and query strings are never logged (they carry hints, state and protocol payloads).
 */
export function requestLogging(log: Logger): RequestHandler {
  return (req, res, next) => {
    const id = randomUUID();
    const started = process.hrtime.bigint();
    const path = req.path;
    req.id = id;
    res.setHeader('X-Request-Id', id);
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', {
      configurable: true,
      get: () => (child ??= log.child({ req: { id, method: req.method, path } })),
    });
    res.once('finish', () => {
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'debug';
      if (!log.isLevelEnabled(level)) return;
      req.log[level]({ res: { status }, responseTimeMs: Number(process.hrtime.bigint() - started) / 1e6 }, 'request completed');
    });
    next();
  };
}
