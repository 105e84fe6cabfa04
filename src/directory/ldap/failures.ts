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

/** A timeout: the server may be hung, so it is not retried on the same server. */
export function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || /timed? ?out/i.test(err.message));
}

/**
 * Worth one retry on a fresh connection to the same server: a reused connection failed other
 * than by timeout (most likely the server closed it just as we sent), so the server itself is
 * not yet suspect.
 */
export function isStaleConnectionFailure(err: unknown, reused: boolean): boolean {
  return reused && isServerFailure(err) && !isTimeout(err) && !(err instanceof ServiceAccountError);
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
