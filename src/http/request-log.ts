import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../observability/logger.js';

declare module 'node:http' {
  interface IncomingMessage {
    /** Our id for this request: every log line of it, the X-Request-Id header, the error page. */
    id: string;
    /** The logger of this request (its lines carry req.id), created on first use. */
    log: Logger;
  }
}

/** Told of every completed request with its duration (metrics: token endpoints' latency). */
export type RequestFinished = (req: Request, status: number, seconds: number) => void;

/**
 * Request ids and request logging. An incoming X-Request-Id is not trusted (it would let a
 * client forge log correlation). The request's logger is made only when something is logged, and
 * a completed request is logged at debug unless it failed: a line per request would cost more than
 * the token it logs at thousands per second, and sign-ins and tokens have lines of their own.
 * Headers and query strings are never logged (they carry hints, state and protocol payloads).
 */
export function requestLogging(log: Logger, finished?: RequestFinished): RequestHandler {
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
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      finished?.(req, status, ms / 1000);
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'debug';
      if (!log.isLevelEnabled(level)) return;
      req.log[level]({ res: { status }, responseTimeMs: ms }, 'request completed');
    });
    next();
  };
}
