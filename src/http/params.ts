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

export function queryParam(req: Request, name: string): string | undefined {
  return single(req.query, name, 'query');
}

export function formParam(req: Request, name: string): string | undefined {
  return single(req.body, name, 'form');
}
