import type { Logger } from '../../observability/logger.js';
import { DirectoryUnavailableError } from '../../core/errors.js';
import { ConnectionPool } from './connection-pool.js';
import type { ConnectionSettings } from './connection.js';
import { describeError, isServerFailure } from './failures.js';
import { ServiceConnection } from './service-connection.js';

/** One directory server: its pooled bind connections and the service account's connection. */
export interface Server {
  readonly url: string;
  readonly binds: ConnectionPool;
  readonly service: ServiceConnection;
}

/** Told of every attempt on a server (metrics): a failure is one that moves on to the next server. */
export type ServerObserver = (attempt: { server: string; what: string; seconds: number; failed: boolean }) => void;

interface ServerState {
  readonly server: Server;
  /** Epoch ms until which the server is skipped after a failure; 0 = alive. */
  deadUntil: number;
}

export interface ServerPoolOptions {
  readonly urls: readonly string[];
  readonly settings: (url: string) => ConnectionSettings;
  readonly bindDn: string;
  readonly bindPassword: string;
  readonly poolSize: number;
  readonly deadServerRetry: number;
  readonly log: Logger;
  readonly now?: () => number;
}

/**
 * Failover across the configured servers, in order. A server that fails (connection refused,
 * reset, timeout, TLS) is skipped for `deadServerRetry` and the request moves on to the next
 * one. An answer (even "invalid credentials") never moves on. When every server is marked dead,
 * they are all tried once more rather than refusing service until the retry time has passed.
 */
export class ServerPool {
  private readonly states: ServerState[];
  private readonly now: () => number;
  private readonly observers: ServerObserver[] = [];

  constructor(private readonly options: ServerPoolOptions) {
    this.now = options.now ?? Date.now;
    this.states = options.urls.map((url) => {
      const settings = options.settings(url);
      return {
        deadUntil: 0,
        server: {
          url,
          binds: new ConnectionPool(settings, options.poolSize),
          service: new ServiceConnection(settings, options.bindDn, options.bindPassword),
        },
      };
    });
  }

  /** Runs `attempt` against the first server that answers. */
  async run<T>(what: string, attempt: (server: Server) => Promise<T>): Promise<T> {
    const now = this.now();
    const alive = this.states.filter((s) => s.deadUntil <= now);
    const dead = this.states.filter((s) => s.deadUntil > now).sort((a, b) => a.deadUntil - b.deadUntil);
    const failures: string[] = [];
    let lastError: unknown;
    for (const state of [...alive, ...dead]) {
      const started = performance.now();
      const observe = (failed: boolean) => this.observers.forEach((o) => o({ server: state.server.url, what, seconds: (performance.now() - started) / 1000, failed }));
      try {
        const result = await attempt(state.server);
        observe(false);
        if (state.deadUntil !== 0) {
          this.options.log.info({ server: state.server.url }, 'directory server answers again');
          state.deadUntil = 0;
        }
        return result;
      } catch (err) {
        observe(isServerFailure(err));
        if (!isServerFailure(err)) throw err;
        failures.push(`${state.server.url}: ${describeError(err)}`);
        lastError = err;
        this.markDead(state, err);
      }
    }
    throw new DirectoryUnavailableError(`${what}: no directory server answered (${failures.join('; ')})`, { cause: lastError });
  }

  observe(observer: ServerObserver): void {
    this.observers.push(observer);
  }

  /** Servers currently skipped, for logs and tests. */
  deadServers(): string[] {
    const now = this.now();
    return this.states.filter((s) => s.deadUntil > now).map((s) => s.server.url);
  }

  close(): void {
    for (const { server } of this.states) {
      server.binds.close();
      server.service.close();
    }
  }

  private markDead(state: ServerState, err: unknown): void {
    const wasAlive = state.deadUntil <= this.now();
    state.deadUntil = this.now() + this.options.deadServerRetry;
    // Idle connections to a failed server are most likely broken too.
    state.server.binds.drain();
    if (wasAlive) {
      this.options.log.warn({ server: state.server.url, err: describeError(err), retryInMs: this.options.deadServerRetry },
        'directory server failed; using the next one');
    }
  }
}
