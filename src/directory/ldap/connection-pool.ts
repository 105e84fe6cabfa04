import type { Client } from 'ldapts';
import { MAX_IDLE_MS, openConnection, type Connection, type ConnectionSettings } from './connection.js';
import { isServerFailure, isStaleConnectionFailure } from './failures.js';

/**
 * A fixed-size pool of connections to one server for password binds. A bind changes who the
 * connection is, so a connection serves one bind at a time; connections are opened on demand up
 * to `size` and then reused, so sign-ins never open a connection each. A connection that failed
 * is dropped and replaced on a later demand.
 */
export class ConnectionPool {
  private readonly idle: Connection[] = [];
  /** Connections that served at least once: a failure on one may just mean it went stale. */
  private readonly used = new WeakSet<Connection>();
  private readonly waiters: Array<{ resolve: (c: Connection) => void; reject: (err: unknown) => void }> = [];
  private count = 0;
  private closed = false;

  constructor(private readonly settings: ConnectionSettings, private readonly size: number) {}

  /**
   * Runs `fn` on a pooled connection; the connection goes back to the pool unless it failed.
   * When a reused connection turns out dead, `fn` runs once more on a fresh one.
   */
  async use<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    const reused = this.used.has(conn);
    try {
      return await this.runOn(conn, fn);
    } catch (err) {
      if (!isStaleConnectionFailure(err, reused)) throw err;
    }
    return this.runOn(await this.acquire(), fn);
  }

  private async runOn<T>(conn: Connection, fn: (client: Client) => Promise<T>): Promise<T> {
    try {
      const result = await fn(conn.client);
      this.release(conn);
      return result;
    } catch (err) {
      if (isServerFailure(err) || !conn.alive()) this.discard(conn);
      else this.release(conn);
      throw err;
    }
  }

  /** Closes every idle connection (busy ones close when they come back). */
  drain(): void {
    for (const conn of this.idle.splice(0)) this.discard(conn);
  }

  close(): void {
    this.closed = true;
    this.drain();
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('the directory was closed'));
  }

  private async acquire(): Promise<Connection> {
    if (this.closed) throw new Error('the directory was closed');
    for (let conn = this.idle.pop(); conn; conn = this.idle.pop()) {
      if (conn.alive() && Date.now() - conn.lastUsed < MAX_IDLE_MS) return conn;
      this.discard(conn);
    }
    if (this.count < this.size) return this.open();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async open(): Promise<Connection> {
    this.count++;
    try {
      return await openConnection(this.settings);
    } catch (err) {
      this.count--;
      this.wakeWaiter();
      throw err;
    }
  }

  private release(conn: Connection): void {
    if (this.closed) return this.discard(conn);
    conn.lastUsed = Date.now();
    this.used.add(conn);
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(conn);
    else this.idle.push(conn);
  }

  private discard(conn: Connection): void {
    this.count--;
    conn.destroy();
    this.wakeWaiter();
  }

  /** A slot became free: a waiting caller gets a new connection. */
  private wakeWaiter(): void {
    if (this.closed || this.waiters.length === 0 || this.count >= this.size) return;
    const waiter = this.waiters.shift()!;
    this.open().then(waiter.resolve, waiter.reject);
  }
}
