/**
 * One typed error hierarchy. Expected outcomes (wrong password, locked account) are values, not
 * errors; an IdpError is a fault or a request we refuse. `message` is safe to show a person;
 * `detail` is for the log only and never reaches a page or a protocol response.
 */
export type IdpErrorCode =
  | 'bad_request'
  | 'not_found'
  | 'csrf_failed'
  | 'rate_limited'
  | 'signin_expired'
  | 'unknown_application'
  | 'unregistered_reply_url'
  | 'unsupported_request'
  | 'directory_unavailable'
  | 'service_busy'
  /** The shared state store (Redis) does not answer: nothing was written, try again later. */
  | 'state_unavailable'
  | 'configuration'
  | 'internal';

const STATUS: Record<IdpErrorCode, number> = {
  bad_request: 400,
  not_found: 404,
  csrf_failed: 403,
  rate_limited: 429,
  signin_expired: 400,
  unknown_application: 400,
  unregistered_reply_url: 400,
  unsupported_request: 400,
  directory_unavailable: 503,
  service_busy: 503,
  state_unavailable: 503,
  configuration: 500,
  internal: 500,
};

export class IdpError extends Error {
  readonly code: IdpErrorCode;
  readonly status: number;
  /** Logged, never shown. */
  readonly detail: string | undefined;

  constructor(code: IdpErrorCode, message: string, detail?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdpError';
    this.code = code;
    this.status = STATUS[code];
    this.detail = detail;
  }
}

/** The directory could not be asked (connection refused, timeout, TLS failure): never "wrong password". */
export class DirectoryUnavailableError extends IdpError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('directory_unavailable', 'The sign-in service is temporarily unavailable. Please try again in a few minutes.', detail, options);
    this.name = 'DirectoryUnavailableError';
  }
}

export function badRequest(detail: string): IdpError {
  return new IdpError('bad_request', 'The request could not be understood.', detail);
}

export function asIdpError(err: unknown): IdpError {
  if (err instanceof IdpError) return err;
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new IdpError('internal', 'Something went wrong on our side.', detail, { cause: err });
}
