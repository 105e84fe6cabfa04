import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Names of properties pino must never write, at whatever depth they appear (to MAX_DEPTH):
 * passwords, keys, tokens, posted protocol responses, cookies and authorization headers. A stray
 * `{ password }` in a log call, a logged config or request headers all come out censored.
 */
const SECRET_KEYS = new Set(['password', 'bindpassword', 'privatekey', 'token', 'wresult', 'samlresponse', 'cookie', 'authorization', 'set-cookie']);
const MAX_DEPTH = 5;
const CENSORED = '[redacted]';

/**
 * `value` with every secret-named property censored; the very same object when there is none (a
 * copy only when something changes, so the caller's objects are never altered). This replaces
 * pino's path-based redaction, which cost more than the rest of a log line (4–9 µs) at thousands
 * of lines per second, and names each path where this catches the name anywhere.
 */
export function censorSecrets(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object' || value instanceof Error || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const next = censorSecrets(item, depth + 1);
      if (next !== item) (copy ??= [...value])[i] = next;
    });
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    const next = SECRET_KEYS.has(key.toLowerCase()) ? (item === undefined ? item : CENSORED) : censorSecrets(item, depth + 1);
    if (next !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = next;
  }
  return copy ?? value;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'fedgate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // What a line logs. Child loggers bind only what code names: request id, method and path, component.
        log: (object) => censorSecrets(object) as Record<string, unknown>,
      },
    },
    destination,
  );
}
