import { BusyError, ResultCodeError, UnavailableError } from 'ldapts';

/**
 * Which errors mean "this server cannot be asked" (fail over, remember it as dead) and which are
 * answers. A refused bind, a missing entry or a bad filter is an answer: another server would say
 * the same, so it never causes failover.
 */
export function isServerFailure(err: unknown): boolean {
  if (err instanceof BusyError || err instanceof UnavailableError) return true;
  if (err instanceof ResultCodeError) return false;
  if (err instanceof ServiceAccountError) return true;
  // Socket errors (ECONNREFUSED, ECONNRESET, TLS verification), connect and operation timeouts.
  return err instanceof Error;
}

/** The service account could not bind: fedgate cannot search, whatever the user typed. */
export class ServiceAccountError extends Error {
  constructor(url: string, options: { cause: unknown }) {
    super(`the service account cannot bind to ${url}: ${describeError(options.cause)}`, options);
    this.name = 'ServiceAccountError';
  }
}

export function describeError(err: unknown): string {
  if (err instanceof ResultCodeError) return `${err.name} (${err.code}): ${err.message}`;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return `${err.name}${code ? ` ${code}` : ''}: ${err.message}`;
  }
  return String(err);
}
