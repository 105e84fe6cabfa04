import net from 'node:net';
import tls from 'node:tls';
import { Client } from 'ldapts';

/**
 * Opening one LDAP connection: ldap://, ldaps:// or ldap:// + StartTLS, with timeouts. A
 * connection is opened exactly once. ldapts would otherwise reconnect transparently when a pooled
 * connection drops, and that new socket would skip StartTLS and carry the next password in clear
 * text; here a dropped connection stays dead and the pool replaces it.
 */
export interface ConnectionSettings {
  readonly url: string;
  /** Options for the TLS layer (CA, verification); used for ldaps:// and StartTLS. */
  readonly tls: tls.ConnectionOptions;
  readonly startTls: boolean;
  readonly connectTimeout: number;
  readonly operationTimeout: number;
  /** Called for every TCP connection made (the pool's tests count them). */
  readonly onConnect?: () => void;
}

export interface Connection {
  readonly client: Client;
  /** When it was opened or last handed back (epoch ms); pools retire long-idle connections. */
  lastUsed: number;
  /** True once the socket was opened; after that, a disconnected client is dead for good. */
  readonly opened: () => boolean;
  readonly alive: () => boolean;
  readonly destroy: () => void;
}

/** Thrown when a dead pooled client is asked to reconnect (never seen outside this module). */
export class ConnectionClosedError extends Error {
  constructor(url: string) {
    super(`connection to ${url} was closed`);
    this.name = 'ConnectionClosedError';
  }
}

const KEEPALIVE_MS = 30_000;

/**
 * Pooled connections idle longer than this are replaced rather than reused: AD closes idle LDAP
 * connections after 15 minutes (MaxConnIdleTime) and firewalls often drop idle flows silently,
 * which would turn the next sign-in into a timeout.
 */
export const MAX_IDLE_MS = 4 * 60_000;

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new TimeoutError(what, ms));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The TLS options of a server: CA, verification and the name the certificate must carry. */
export function tlsOptionsFor(url: string, base: { ca?: Buffer[]; rejectUnauthorized: boolean }): tls.ConnectionOptions {
  const host = hostOf(url);
  return {
    ...(base.ca ? { ca: base.ca } : {}),
    rejectUnauthorized: base.rejectUnauthorized,
    host,
    // SNI cannot carry an IP address; Node then checks the certificate's IP SANs against `host`.
    ...(net.isIP(host) ? {} : { servername: host }),
  };
}

export function hostOf(url: string): string {
  const host = new URL(url).hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function refusedSocket<T extends net.Socket>(url: string): T {
  const socket = new net.Socket();
  process.nextTick(() => socket.destroy(new ConnectionClosedError(url)));
  return socket as T;
}

/** Creates a client that connects on first use (or now, for StartTLS) and never reconnects. */
export async function openConnection(settings: ConnectionSettings): Promise<Connection> {
  const secure = new URL(settings.url).protocol === 'ldaps:';
  let opened = false;
  const once = <T extends net.Socket>(connect: () => T): T => {
    if (opened) return refusedSocket<T>(settings.url);
    opened = true;
    settings.onConnect?.();
    // Keepalive probes notice a peer or firewall that silently dropped an idle pooled connection.
    return connect().setKeepAlive(true, KEEPALIVE_MS);
  };
  const createConnection = ((port: number, host: string) => once(() => net.connect(port, host))) as typeof net.connect;
  const createSecureConnection = ((...args: unknown[]) => {
    // ldapts calls (port, host, options) to open ldaps://, and (options) to upgrade for StartTLS.
    if (typeof args[0] === 'number') {
      return once(() => tls.connect(args[0] as number, args[1] as string, args[2] as tls.ConnectionOptions));
    }
    return tls.connect(args[0] as tls.ConnectionOptions);
  }) as typeof tls.connect;

  const client = new Client({
    url: settings.url,
    timeout: settings.operationTimeout,
    connectTimeout: settings.connectTimeout,
    // ldapts speaks TLS at once whenever tlsOptions are given, so only ldaps:// gets them here.
    ...(secure ? { tlsOptions: settings.tls } : {}),
    createConnection,
    createSecureConnection,
  });
  const destroy = () => {
    client.unbind().catch(() => undefined);
  };
  if (settings.startTls && !secure) {
    // startTLS() connects, sends the extended operation and upgrades; the handshake itself has no
    // ldapts timeout, hence the outer one.
    await withTimeout(client.startTLS({ ...settings.tls }), settings.connectTimeout + settings.operationTimeout,
      `StartTLS with ${settings.url}`, destroy).catch((err: unknown) => {
      destroy();
      throw err;
    });
  }
  return {
    client,
    lastUsed: Date.now(),
    opened: () => opened,
    alive: () => !opened || client.isConnected,
    destroy,
  };
}
