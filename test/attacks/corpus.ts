/**
 * Attack inputs for the sign-in surface. Every protocol issue adds its own (signature wrapping,
 * XXE, replay, unregistered reply URLs) next to these.
 */

/** Typed as the user name: LDAP filter injection, wildcards, NULs, encodings, oversize. */
export const HOSTILE_LOGINS: readonly string[] = [
  '*',
  '*)(uid=*',
  '*)(|(uid=*',
  'alice)(|(uid=*',
  'alice*',
  '*alice*',
  'a*e',
  '*)(userPassword=*',
  'alice)(&)',
  '(&(objectClass=*))',
  '\\2a',
  'alice\\00',
  'alice\u0000',
  'alice\u0000@example.test',
  'EXAMPLE\\*',
  '\\alice',
  'EXAMPLE\\alice)(uid=*',
  '*@example.test',
  'alice@*',
  'cn=admin,dc=example,dc=test',
  'uid=alice,ou=people,dc=example,dc=test',
  'ALİCE',
  'alice%00',
  'a'.repeat(257),
];

/** Reflected into pages (login_hint, the typed user name): must come back escaped. */
export const XSS_PAYLOADS: readonly string[] = [
  '"><script>alert(1)</script>',
  "'><img src=x onerror=alert(1)>",
  '</textarea><svg onload=alert(1)>',
  '{{7*7}}<%= 7*7 %>${7*7}',
  'javascript:alert(1)',
];

/** Where an attacker controls an id: pending sign-ins and session cookies. */
export const HOSTILE_IDS: readonly string[] = [
  '',
  '../../etc/passwd',
  'pending:x',
  'session:x',
  '%0d%0aSet-Cookie:%20evil=1',
  'x'.repeat(5000),
  'A'.repeat(32) + '\r\nX-Injected: 1',
  '__proto__',
  'constructor',
];
