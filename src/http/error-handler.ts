import type { ErrorRequestHandler, RequestHandler } from 'express';
import { asIdpError, badRequest, IdpError } from '../core/errors.js';
import { pickMessages, type MessageKey } from '../i18n/messages.js';
import type { RenderPage } from './render.js';

/**
 * The one place errors become pages: the person sees a safe message and the request id; the log
 * gets the detail (never a stack trace on a page, never a token or password in either).
 */
export function notFoundHandler(): RequestHandler {
  return (_req, _res, next) => next(new IdpError('not_found', 'The page you asked for does not exist.', 'no route'));
}

/** body-parser and friends report malformed input with `type` and a 4xx status. */
function fromFramework(err: unknown): IdpError | undefined {
  const e = err as { status?: number; type?: string; message?: string };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && typeof e.type === 'string') {
    return badRequest(`${e.type}: ${e.message ?? ''}`);
  }
  return undefined;
}

export function errorHandler(render: RenderPage): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const error = fromFramework(err) ?? asIdpError(err);
    const level = error.status >= 500 ? 'error' : 'warn';
    req.log[level]({ code: error.code, status: error.status, detail: error.detail, ...(error.status >= 500 ? { err } : {}) }, error.message);
    if (res.headersSent) return;
    const wantsJson = req.path.startsWith('/healthz') || req.path.startsWith('/readyz');
    if (wantsJson) {
      res.status(error.status).json({ error: error.code, message: error.message, requestId: String(req.id) });
      return;
    }
    const t = pickMessages(req.headers['accept-language']);
    const key = `error_${error.code}`;
    const message = key in t ? t[key as MessageKey] : error.message;
    render(req, res, 'error', { message, code: error.code }, error.status);
  };
}
