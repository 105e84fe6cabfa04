import type { Directory } from '../directory/directory.js';
import type { ServerObserver } from '../directory/ldap/server-pool.js';
import type { StateStore } from '../state/state-store.js';
import type { Metrics } from './metrics.js';

type Done = (operation: string, seconds: number, failed: boolean) => void;

/**
 * The object with the methods `operationOf` names timed (rejected = failed), everything else
 * passed on. A Proxy rather than a copy: a method added to the interface later is passed on (or
 * timed) without a change here, and a class instance keeps its prototype's methods.
 */
function timeMethods<T extends object>(target: T, operationOf: (property: string) => string | undefined, done: Done): T {
  // One wrapper per method, made on first use: the store is called several times per token.
  const wrappers = new Map<string, unknown>();
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      const operation = typeof property === 'string' ? operationOf(property) : undefined;
      if (typeof value !== 'function' || operation === undefined) return value;
      let wrapper = wrappers.get(operation);
      if (wrapper === undefined) {
        wrapper = async (...args: unknown[]) => {
          const started = performance.now();
          let failed = true;
          try {
            const result: unknown = await (Reflect.get(object, property, receiver) as (...a: unknown[]) => unknown).apply(object, args);
            failed = false;
            return result;
          } finally {
            done(operation, (performance.now() - started) / 1000, failed);
          }
        };
        wrappers.set(operation, wrapper);
      }
      return wrapper;
    },
  });
}

/** The state store, each operation (but close) timed. */
export function instrumentStore(store: StateStore, metrics: Metrics): StateStore {
  // Label sets resolved once per operation: prom-client hashes the labels on every observe otherwise.
  const durations = new Map<string, { observe(seconds: number): void }>();
  return timeMethods(store, (property) => (property === 'close' ? undefined : property), (operation, seconds, failed) => {
    let duration = durations.get(operation);
    if (!duration) durations.set(operation, (duration = metrics.storeDuration.labels({ operation })));
    duration.observe(seconds);
    if (failed) metrics.storeErrors.inc({ operation });
  });
}

/** host:port of a directory URL (the scheme's default port when none is written). */
export function serverLabel(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'ldaps:' ? '636' : '389')}`;
}

interface ObservableDirectory extends Directory {
  observeServers(observer: ServerObserver): void;
}

const observable = (directory: Directory): directory is ObservableDirectory =>
  typeof (directory as Partial<ObservableDirectory>).observeServers === 'function';

/** The same operation names as the LDAP server pool reports. */
const FILE_OPERATIONS = new Map([['authenticate', 'sign-in'], ['findUser', 'user-lookup'], ['checkAccount', 'account-check'], ['checkHealth', 'health-check']]);

/**
 * Directory latency and errors per server. LDAP reports each attempt on each server (failover
 * tries several for one sign-in); another directory (the demo file) is timed per call as the
 * one server "file". Returns the directory to use.
 */
export function instrumentDirectory(directory: Directory, metrics: Metrics): Directory {
  const record = (server: string, operation: string, seconds: number, failed: boolean) => {
    metrics.directoryDuration.observe({ server, operation }, seconds);
    if (failed) metrics.directoryErrors.inc({ server, operation });
  };
  if (observable(directory)) {
    directory.observeServers((a) => record(serverLabel(a.server), a.what.replace(/\s+/g, '-'), a.seconds, a.failed));
    return directory;
  }
  return timeMethods(directory, (property) => FILE_OPERATIONS.get(property), (operation, seconds, failed) => record('file', operation, seconds, failed));
}
