import { BusyError, MessageParserError, ResultCodeError, UnavailableError } from 'ldapts';
import { IdpError } from '../../core/errors.js';
import { ConnectionClosedError, TimeoutError } from './connection.js';

/**
 * Which errors mean "this server cannot be asked" (fail over, remember it as dead) and which are
 * answers. A refused bind, a missing entry or a bad filter is an answer: another server would say
 * the same, so it never causes failover.
 */
/** Node's socket errno codes and OpenSSL/TLS verification codes. */
const SOCKET_OR_TLS_CODE = /^(E[A-Z0-9]+|ERR_(TLS|SSL|SOCKET)_\w+|UNABLE_TO_\w+|CERT_\w+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)$/;

/** ldapts' own connection faults (plain Errors): connect timeout, socket error, drop, operation timeout. */
const LDAPTS_CONNECTION_FAULT = /^(Connection timeout|Socket error|Connection closed|Socket connection not established)|Operation timed out$/;

export function isServerFailure(err: unknown): boolean {
  if (err instanceof BusyError || err instanceof UnavailableError) return true;
  if (err instanceof ResultCodeError) return false;
  if (err instanceof ServiceAccountError || err instanceof TimeoutError || err instanceof MessageParserError) return true;
  if (err instanceof ConnectionClosedError) return true;
  if (!(err instanceof Error) || err instanceof IdpError) return false;
  // Socket and TLS errors carry a code (ECONNREFUSED, ECONNRESET, ERR_TLS_..., UNABLE_TO_VERIFY_...);
  // ldapts reports a connect timeout or a dropped connection as a plain Error. Anything else (our
  // own refusals, a bug, a malformed entry) is not the server's fault: failing over for it would
  // mark every server dead because of one user.
  const code = (err as NodeJS.ErrnoException).code;
  return (typeof code === 'string' && SOCKET_OR_TLS_CODE.test(code)) || LDAPTS_CONNECTION_FAULT.test(err.message);
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
