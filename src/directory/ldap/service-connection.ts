import type { Client } from 'ldapts';
import { openConnection, type Connection, type ConnectionSettings } from './connection.js';
import { isServerFailure, ServiceAccountError } from './failures.js';

/**
 * The service account's own connection to one server, for the searches of search-then-bind.
 * It stays bound as the service account and is shared: LDAP multiplexes concurrent searches on
 * one connection by message id. It is opened on first use and replaced after a failure.
 */
export class ServiceConnection {
  private current: Promise<Connection> | undefined;

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly bindDn: string,
    private readonly bindPassword: string,
  ) {}

  async use<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const pending = this.connect();
    const conn = await pending;
    try {
      return await fn(conn.client);
    } catch (err) {
      if (isServerFailure(err) || !conn.alive()) this.reset(pending);
      throw err;
    }
  }

  close(): void {
    const pending = this.current;
    this.current = undefined;
    pending?.then((conn) => conn.destroy(), () => undefined);
  }

  private async connect(): Promise<Connection> {
    const existing = this.current;
    if (existing) {
      const conn = await existing.catch(() => undefined);
      if (conn?.alive()) return conn;
      if (this.current === existing) this.current = undefined;
      // Another caller may already have started the replacement.
      if (this.current) return this.current;
    }
    const pending = this.openBound();
    this.current = pending;
    pending.catch(() => {
      if (this.current === pending) this.current = undefined;
    });
    return pending;
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

  private reset(pending: Promise<Connection>): void {
    if (this.current !== pending) return;
    this.current = undefined;
    pending.then((conn) => conn.destroy(), () => undefined);
  }
}
