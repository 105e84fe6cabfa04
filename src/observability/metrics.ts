import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { daysUntilExpiry, type KeyStore } from '../keys/key-store.js';
import type { AuditListener } from './audit.js';
import { signInCounter, type ApplicationProtocol } from './metrics-signins.js';
import { tokenRequestObserver, type RequestObserver, type TokenObserver } from './metrics-http.js';

/**
 * Prometheus metrics. One registry per app (never prom-client's global one): tests build many
 * apps in one process, and each must count only its own sign-ins. Label values are always from a
 * bounded set (configured applications, protocol and operation names, configured servers): never a
 * user name, an address, a path or a token.
 */
export interface Metrics {
  readonly registry: Registry;
  /** For createAudit: counts sign-ins by protocol, application and outcome. */
  readonly auditListener: AuditListener;
  /** For requestLogging: token endpoints' response times by protocol. */
  readonly observeRequest: RequestObserver;
  readonly observeToken: TokenObserver;
  readonly directoryDuration: Histogram<'server' | 'operation'>;
  readonly directoryErrors: Counter<'server' | 'operation'>;
  readonly storeDuration: Histogram<'operation'>;
  readonly storeErrors: Counter<'operation'>;
  /** Registers prom-client's process metrics once (lazily: see below). */
  readonly withProcessMetrics: () => Registry;
}

export interface MetricsOptions {
  /** The protocol of an application the configuration does not name (a SAML SP named by its metadata). */
  readonly applicationProtocol?: ApplicationProtocol;
}

/** Seconds: a bind or a Redis round trip takes milliseconds, a struggling DC seconds. */
const BACKEND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(config: Config, keys: KeyStore, options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: 'fedgate_signing_certificate_days_left', help: 'Days until the token-signing certificate expires (current, and next during a rollover).',
    labelNames: ['certificate'], registers,
    // Every worker reads the same certificate: summed over workers the figure would be wrong.
    aggregator: 'min',
    // Read at each scrape: a rollover changes keys.current and keys.next.
    collect() {
      this.reset();
      this.set({ certificate: 'current' }, daysUntilExpiry(keys.current));
      if (keys.next) this.set({ certificate: 'next' }, daysUntilExpiry(keys.next));
    },
  });
  let processMetrics = false;
  const tokens = tokenRequestObserver(config, registers);
  return {
    registry,
    auditListener: signInCounter(config, registers, options.applicationProtocol),
    observeRequest: tokens.observeRequest,
    observeToken: tokens.observeToken,
    directoryDuration: new Histogram({
      name: 'fedgate_directory_request_duration_seconds', help: 'Directory operations per server (LDAP: each attempt on each server).',
      labelNames: ['server', 'operation'], buckets: BACKEND_BUCKETS, registers,
    }),
    directoryErrors: new Counter({
      name: 'fedgate_directory_errors_total', help: 'Directory server failures (unreachable, timeout, TLS): each one moves on to the next server.',
      labelNames: ['server', 'operation'], registers,
    }),
    storeDuration: new Histogram({
      name: 'fedgate_state_store_duration_seconds', help: 'State-store operations (memory or Redis).',
      labelNames: ['operation'], buckets: BACKEND_BUCKETS, registers,
    }),
    storeErrors: new Counter({
      name: 'fedgate_state_store_errors_total', help: 'State-store operations that failed (Redis unreachable).',
      labelNames: ['operation'], registers,
    }),
    // Deferred to the first scrape: the event-loop monitor and GC observer it starts run for the
    // life of the process, and a process (or a test) that is never scraped needs neither.
    withProcessMetrics: () => {
      if (!processMetrics) collectDefaultMetrics({ register: registry });
      processMetrics = true;
      return registry;
    },
  };
}
