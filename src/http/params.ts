import type { Request } from 'express';
import { badRequest } from '../core/errors.js';

/**
 * Strict parameter reading: a parameter is one string or absent. A repeated parameter (an array)
 * or an oversized one is a malformed request (400), never silently the first or last value.
 */
const MAX_LENGTH = 8192;

function single(source: unknown, name: string, where: string): string | undefined {
  const value = (source as Record<string, unknown> | undefined)?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(`${where} parameter ${name} is not a single value`);
  if (value.length > MAX_LENGTH) throw badRequest(`${where} parameter ${name} is too long (${value.length})`);
  return value;
}

/**
 * Express 5's req.query is a getter that parses the query string again at every read; the routes
 * read a dozen parameters. The first middleware parses it once and keeps the result on the request.
 */
export function parseQueryOnce(req: Request, _res: unknown, next: () => void): void {
  Object.defineProperty(req, 'query', { value: req.query, configurable: true, enumerable: true, writable: true });
  next();
}

export function queryParam(req: Request, name: string): string | undefined {
  return single(req.query, name, 'query');
}

export function formParam(req: Request, name: string): string | undefined {
  return single(req.body, name, 'form');
}
