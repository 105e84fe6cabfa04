import type { Logger } from 'pino';

/**
 * Audit events: one log line per security-relevant event, `audit: true` so they can be routed
 * apart. Carries the typed login and the client address, never the password or a cookie. The line
 * format is a documented contract for SIEMs (docs/audit-events.md): a test keeps the two in step.
 */
export const AUDIT_EVENT_TYPES = [
  'signin.success',
  'signin.failure',
  'signin.rate_limited',
  'signin.directory_unavailable',
  'sso.reused',
  'signout',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditEvent {
  readonly type: AuditEventType;
  /** For failures: the directory outcome (invalid-credentials, locked-out, ...). */
  readonly outcome?: string;
  /** What the user typed or the session's UPN. */
  readonly user?: string;
  readonly clientIp?: string;
  /** Relying party identifier, or "portal" for fedgate's own pages. */
  readonly application?: string;
  readonly requestId?: string;
  readonly method?: string;
}

export type Audit = (event: AuditEvent) => void;

/** Told of every event after it is logged (metrics count sign-ins from them). */
export type AuditListener = (event: AuditEvent) => void;

export function createAudit(log: Logger, listener?: AuditListener): Audit {
  const audit = log.child({ audit: true });
  return (event) => {
    const level = event.type === 'signin.success' || event.type === 'sso.reused' || event.type === 'signout' ? 'info' : 'warn';
    audit[level]({ event }, event.type);
    listener?.(event);
  };
}
