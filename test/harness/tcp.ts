import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';

/**
 * Plain TCP helpers for directory tests, all on 127.0.0.1 below the ephemeral port range:
 * listeners that count or swallow connections, a recording proxy, and this process's own
 * established connections to a port (read from /proc).
 */
export interface Listener {
  readonly port: number;
  readonly url: string;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Listens on the first free port from `from` (ports below 32768: see test-infrastructure.md). */
export async function listen(onConnection: (socket: net.Socket) => void, from = 21500, to = 21599): Promise<Listener> {
  for (let port = from; port <= to; port++) {
    const sockets = new Set<net.Socket>();
    let count = 0;
    const server = net.createServer((socket) => {
      count++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      onConnection(socket);
    });
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!ok) continue;
    return {
      port,
      url: `ldap://127.0.0.1:${port}`,
      connections: () => count,
      close: () => new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    };
  }
  throw new Error(`no free port in ${from}-${to}`);
}

/** Accepts and immediately drops every connection (a server that is up but broken). */
export const listenAndDrop = () => listen((socket) => socket.destroy());

/** Accepts connections and never answers (a hung server: only timeouts get out). */
export const listenAndHang = () => listen(() => undefined);

/** Forwards to 127.0.0.1:`targetPort` and records every byte the client sends. */
export async function recordingProxy(targetPort: number): Promise<Listener & { clientBytes(): Buffer }> {
  const chunks: Buffer[] = [];
  const listener = await listen((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    client.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
    client.pipe(upstream).pipe(client);
  });
  return { ...listener, clientBytes: () => Buffer.concat(chunks) };
}

/**
 * Forwards to 127.0.0.1:`targetPort`; after cutExisting(), each connection open at that moment
 * is reset by the next byte its client sends, as if the server had dropped it while idle.
 */
export async function cuttingProxy(targetPort: number): Promise<Listener & { cutExisting(): void }> {
  const open = new Set<net.Socket>();
  const doomed = new WeakSet<net.Socket>();
  const listener = await listen((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    const upstream = net.connect(targetPort, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    client.on('data', (d: Buffer) => {
      if (doomed.has(client)) {
        client.resetAndDestroy();
        upstream.destroy();
      } else {
        upstream.write(d);
      }
    });
    upstream.pipe(client);
  });
  return { ...listener, cutExisting: () => open.forEach((s) => doomed.add(s)) };
}

/** Established TCP connections from THIS process to 127.0.0.1:`port` (/proc/net/tcp + /proc/self/fd). */
export function ownConnectionsTo(port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // fds come and go while we read
    }
  }
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).filter((line) => {
    const cols = line.trim().split(/\s+/);
    return cols[2] === remote && cols[3] === '01' && inodes.has(cols[9] ?? '');
  }).length;
}
