import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino must never write: passwords, cookies, tokens, keys. Request logging adds headers, and
 * a stray `{ password }` in a log call must still come out censored.
 */
export const REDACT_PATHS = [
  'password', '*.password', 'bindPassword', '*.bindPassword', '*.*.bindPassword',
  'privateKey', '*.privateKey', 'token', '*.token', 'wresult', '*.wresult', 'SAMLResponse', '*.SAMLResponse',
  'req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'fedgate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
