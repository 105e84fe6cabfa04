import net from 'node:net';
import tls from 'node:tls';
import {
  BusyError,
  InvalidCredentialsError,
  MessageParserError,
  NoSuchObjectError,
  TimeLimitExceededError,
  UnavailableError,
  UnwillingToPerformError,
} from 'ldapts';
import { describe, expect, it } from 'vitest';
import { DirectoryUnavailableError, IdpError } from '../../src/core/errors.js';
import { ConnectionClosedError, TimeoutError } from '../../src/directory/ldap/connection.js';
import { describeError, isServerFailure, isStaleConnectionFailure, isTimeout, ServiceAccountError } from '../../src/directory/ldap/failures.js';

/** A socket-level error as Node reports it: an Error with a string `code`. */
function socketError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** A real refused connection: listen on a free port, close it, then connect to it. */
async function realConnectionRefused(): Promise<Error> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return new Promise((resolve) => net.connect(port, '127.0.0.1').once('error', resolve));
}

/** A real TLS failure: a TLS client talking to a server that answers in plain text. */
async function realTlsError(): Promise<Error> {
  const server = net.createServer((s) => s.end('this is not TLS\r\n'.repeat(20)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    return await new Promise((resolve) => tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: true }).once('error', resolve));
  } finally {
    server.close();
  }
}

/** The plain Errors ldapts 8 rejects with (src/Client.ts); their messages are all there is to go by. */
const LDAPTS_CONNECT_TIMEOUT = () => new Error('Connection timeout');
const LDAPTS_CLOSED = () =>
  new Error('Connection closed before message response was received. Message type: SearchRequest (0x63)');
const LDAPTS_OPERATION_TIMEOUT = () => new Error('SearchRequest: Operation timed out');
const LDAPTS_SOCKET_ERROR = () => new Error('Socket error. Message type: BindRequest (0x60)\nread ECONNRESET');

describe('isServerFailure', () => {
  it('server failure: socket errors carrying a code (refused, reset, unreachable) are server failures', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE']) {
      expect(isServerFailure(socketError(code, `connect ${code} 192.0.2.1:636`)), code).toBe(true);
    }
  });

  it('server failure: a real ECONNREFUSED from Node is a server failure', async () => {
    const err = await realConnectionRefused();
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(isServerFailure(err)).toBe(true);
  });

  it('server failure: TLS errors carrying a code are server failures', async () => {
    expect(isServerFailure(socketError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'))).toBe(true);
    expect(isServerFailure(socketError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"))).toBe(true);
    expect(isServerFailure(socketError('CERT_HAS_EXPIRED', 'certificate has expired'))).toBe(true);
    const real = await realTlsError();
    expect(typeof (real as NodeJS.ErrnoException).code).toBe('string');
    expect(isServerFailure(real)).toBe(true);
  });

  it("server failure: ldapts' plain connect timeout and dropped-connection errors are server failures", () => {
    expect(isServerFailure(LDAPTS_CONNECT_TIMEOUT())).toBe(true);
    expect(isServerFailure(LDAPTS_CLOSED())).toBe(true);
  });

  it("server failure: ldapts' plain operation timeout is a server failure (a hung server is failed over from)", () => {
    expect(isServerFailure(LDAPTS_OPERATION_TIMEOUT())).toBe(true);
  });

  it("server failure: ldapts' wrapped socket error after connect (the code is lost) is a server failure", () => {
    expect(isServerFailure(LDAPTS_SOCKET_ERROR())).toBe(true);
  });

  it("server failure: ldapts' send on a client that is not connected is a server failure", () => {
    expect(isServerFailure(new Error('Socket connection not established'))).toBe(true);
  });

  // What a reused client whose socket closed rejects with (connection.ts refuses to reconnect).
  it('server failure: the ConnectionClosedError of connection.ts is a server failure', () => {
    expect(isServerFailure(new ConnectionClosedError('ldaps://dc1.example.test'))).toBe(true);
  });

  it('server failure: the TimeoutError of connection.ts is a server failure', () => {
    expect(isServerFailure(new TimeoutError('StartTLS with ldap://dc1.example.test', 5000))).toBe(true);
  });

  it('server failure: ldapts BusyError and UnavailableError are server failures', () => {
    expect(isServerFailure(new BusyError())).toBe(true);
    expect(isServerFailure(new UnavailableError())).toBe(true);
  });

  it('server failure: an unparsable response (MessageParserError) is a server failure', () => {
    expect(isServerFailure(new MessageParserError('unexpected tag'))).toBe(true);
  });

  it('server failure: a service account that cannot bind is a server failure', () => {
    const cause = new InvalidCredentialsError('80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1');
    expect(isServerFailure(new ServiceAccountError('ldaps://dc1.example.test', { cause }))).toBe(true);
  });

  it('server failure: a refused bind is an answer, not a server failure', () => {
    expect(isServerFailure(new InvalidCredentialsError())).toBe(false);
  });

  it('server failure: other LDAP result codes are answers, not server failures', () => {
    expect(isServerFailure(new UnwillingToPerformError())).toBe(false);
    expect(isServerFailure(new NoSuchObjectError())).toBe(false);
    expect(isServerFailure(new TimeLimitExceededError())).toBe(false);
  });

  // IdpError has a string `code` ('directory_unavailable', 'internal', ...): it must not pass for
  // a socket error. ldap-directory.ts throws DirectoryUnavailableError for a bind refused with a
  // result code other than 49; counting that as a server failure marks every server dead for one user.
  it("server failure: fedgate's own IdpError and DirectoryUnavailableError are not server failures", () => {
    expect(isServerFailure(new DirectoryUnavailableError('ldaps://dc1 refused the bind of cn=alice: UnwillingToPerformError'))).toBe(false);
    expect(isServerFailure(new IdpError('internal', 'Something went wrong on our side.'))).toBe(false);
  });

  it('server failure: a bug or a malformed entry (a plain Error) is not a server failure', () => {
    expect(isServerFailure(new Error('bug'))).toBe(false);
    expect(isServerFailure(new TypeError("Cannot read properties of undefined (reading 'length')"))).toBe(false);
    expect(isServerFailure(new Error('a SID with 5 sub-authorities has 28 bytes, not 9'))).toBe(false);
  });

  it('server failure: a message that merely mentions a connection fault somewhere is not a server failure', () => {
    expect(isServerFailure(new Error('bad filter: (cn=Connection timeout)'))).toBe(false);
    expect(isServerFailure(new Error('no user named Socket error'))).toBe(false);
  });

  it('server failure: non-Error values are not server failures', () => {
    expect(isServerFailure(undefined)).toBe(false);
    expect(isServerFailure('ECONNREFUSED')).toBe(false);
    expect(isServerFailure({ code: 'ECONNREFUSED', message: 'Connection timeout' })).toBe(false);
  });
});

describe('isTimeout', () => {
  it('timeout: the TimeoutError of connection.ts is a timeout', () => {
    expect(isTimeout(new TimeoutError('bind to ldaps://dc1', 3000))).toBe(true);
  });

  it("timeout: ldapts' connect and operation timeouts are timeouts", () => {
    expect(isTimeout(LDAPTS_CONNECT_TIMEOUT())).toBe(true);
    expect(isTimeout(LDAPTS_OPERATION_TIMEOUT())).toBe(true);
  });

  it('timeout: an error named TimeoutError is a timeout whatever its message', () => {
    const err = new Error('no answer');
    err.name = 'TimeoutError';
    expect(isTimeout(err)).toBe(true);
  });

  it('timeout: refused, reset and dropped connections are not timeouts', () => {
    expect(isTimeout(socketError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:389'))).toBe(false);
    expect(isTimeout(socketError('ECONNRESET', 'read ECONNRESET'))).toBe(false);
    expect(isTimeout(LDAPTS_CLOSED())).toBe(false);
    expect(isTimeout(new InvalidCredentialsError())).toBe(false);
  });

  it('timeout: non-Error values are not timeouts', () => {
    expect(isTimeout('Connection timeout')).toBe(false);
    expect(isTimeout(undefined)).toBe(false);
  });
});

describe('isStaleConnectionFailure', () => {
  it('stale connection: a reused connection that was reset or closed is worth one retry', () => {
    expect(isStaleConnectionFailure(socketError('ECONNRESET', 'read ECONNRESET'), true)).toBe(true);
    expect(isStaleConnectionFailure(socketError('EPIPE', 'write EPIPE'), true)).toBe(true);
    expect(isStaleConnectionFailure(LDAPTS_CLOSED(), true)).toBe(true);
  });

  it('stale connection: a fresh connection that failed is not retried', () => {
    expect(isStaleConnectionFailure(socketError('ECONNRESET', 'read ECONNRESET'), false)).toBe(false);
    expect(isStaleConnectionFailure(LDAPTS_CLOSED(), false)).toBe(false);
  });

  it('stale connection: a timeout on a reused connection is not retried on the same server', () => {
    expect(isStaleConnectionFailure(new TimeoutError('search', 3000), true)).toBe(false);
    expect(isStaleConnectionFailure(LDAPTS_CONNECT_TIMEOUT(), true)).toBe(false);
    expect(isStaleConnectionFailure(LDAPTS_OPERATION_TIMEOUT(), true)).toBe(false);
  });

  it('stale connection: a service account that cannot bind is not retried', () => {
    const err = new ServiceAccountError('ldap://dc1', { cause: socketError('ECONNRESET', 'read ECONNRESET') });
    expect(isStaleConnectionFailure(err, true)).toBe(false);
  });

  it('stale connection: answers and bugs are not retried', () => {
    expect(isStaleConnectionFailure(new InvalidCredentialsError(), true)).toBe(false);
    expect(isStaleConnectionFailure(new NoSuchObjectError(), true)).toBe(false);
    expect(isStaleConnectionFailure(new Error('bug'), true)).toBe(false);
  });

  it('stale connection: a reused client that refuses to reconnect (ConnectionClosedError) is worth one retry', () => {
    expect(isStaleConnectionFailure(new ConnectionClosedError('ldap://dc1'), true)).toBe(true);
  });
});

describe('describeError', () => {
  it('describe error: LDAP result errors show their name and result code', () => {
    expect(describeError(new NoSuchObjectError('no such base'))).toMatch(/^NoSuchObjectError \(32\): no such base/);
  });

  it('describe error: socket errors show their code', () => {
    expect(describeError(socketError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:389'))).toBe('Error ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:389');
  });

  it('describe error: a service account failure names the server and the cause', () => {
    const err = new ServiceAccountError('ldaps://dc1.example.test', { cause: new InvalidCredentialsError('bad') });
    expect(err.name).toBe('ServiceAccountError');
    expect(err.message).toContain('ldaps://dc1.example.test');
    expect(err.message).toContain('InvalidCredentialsError (49)');
    expect(err.cause).toBeInstanceOf(InvalidCredentialsError);
  });

  it('describe error: non-Error values are shown as text', () => {
    expect(describeError('boom')).toBe('boom');
  });
});
