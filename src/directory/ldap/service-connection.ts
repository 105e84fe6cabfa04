import type { Client } from 'ldapts';
import { MAX_IDLE_MS, openConnection, type Connection, type ConnectionSettings } from './connection.js';
import { isServerFailure, isStaleConnectionFailure, ServiceAccountError } from './failures.js';

/**
 * The service account's own connection to one server, for the searches of search-then-bind.
 * It stays bound as the service account and is shared: LDAP multiplexes concurrent searches on
 * one connection by message id. It is opened on first use and replaced after a failure or when
 * it has been idle too long.
 */
export class ServiceConnection {
  /** The connection being opened, or open; shared by concurrent callers. */
  private pending: Promise<Connection> | undefined;

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly bindDn: string,
    private readonly bindPassword: string,
  ) {}

  /** Runs `fn` on the shared connection; once more on a new one if a reused connection was dead. */
  async use<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const { conn, reused } = await this.get();
    try {
      return await this.runOn(conn, fn);
    } catch (err) {
      if (!isStaleConnectionFailure(err, reused)) throw err;
    }
    return this.runOn((await this.get()).conn, fn);
  }

  close(): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.then((conn) => conn.destroy(), () => undefined);
  }

  private async runOn<T>(conn: Connection, fn: (client: Client) => Promise<T>): Promise<T> {
    try {
      const result = await fn(conn.client);
      conn.lastUsed = Date.now();
      return result;
    } catch (err) {
      if (isServerFailure(err) || !conn.alive()) await this.drop(conn);
      throw err;
    }
  }

  private async get(): Promise<{ conn: Connection; reused: boolean }> {
    for (let pending = this.pending; pending; pending = this.pending) {
      const conn = await pending.catch(() => undefined);
      if (this.pending !== pending) continue; // replaced meanwhile: look at the new one
      if (conn && conn.alive() && Date.now() - conn.lastUsed < MAX_IDLE_MS) return { conn, reused: true };
      this.pending = undefined;
      conn?.destroy();
    }
    const pending = this.openBound();
    this.pending = pending;
    try {
      return { conn: await pending, reused: false };
    } catch (err) {
      if (this.pending === pending) this.pending = undefined;
      throw err;
    }
  }

  private async drop(conn: Connection): Promise<void> {
    const pending = this.pending;
    if (pending && (await pending.catch(() => undefined)) === conn && this.pending === pending) this.pending = undefined;
    conn.destroy();
  }

  private async openBound(): Promise<Connection> {
    const conn = await openConnection(this.settings);
    try {
      await conn.client.bind(this.bindDn, this.bindPassword);
    } catch (err) {
      conn.destroy();
      throw isServerFailure(err) ? err : new ServiceAccountError(this.settings.url, { cause: err });
    }
    return conn;
  }
}
