import { IdpError } from '../core/errors.js';
import type { StateStore } from './state-store.js';

interface Entry {
  readonly json: string;
  readonly expiresAt: number;
}

/** Default ceiling of stored JSON: sign-in starts store state before anyone has authenticated. */
const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

/**
 * Single-node state store. Expired entries are dropped on read and by a periodic sweep. It holds
 * at most `maxBytes` of values: past that (after dropping what expired) new values are refused
 * with a 503 "busy", so a flood of unauthenticated sign-in starts cannot exhaust the process.
 */
export function createMemoryStore(options: { sweepIntervalMs?: number; now?: () => number; maxBytes?: number } = {}): StateStore {
  const entries = new Map<string, Entry>();
  const now = options.now ?? Date.now;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let bytes = 0;
  const remove = (key: string) => {
    const entry = entries.get(key);
    if (entry) bytes -= entry.json.length;
    entries.delete(key);
  };
  const dropExpired = () => {
    const t = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= t) remove(key);
  };
  const store = (key: string, entry: Entry) => {
    const growth = entry.json.length - (entries.get(key)?.json.length ?? 0);
    if (bytes + growth > maxBytes) {
      dropExpired();
      if (bytes + growth > maxBytes) {
        throw new IdpError('service_busy', 'The sign-in service is busy. Please try again in a few minutes.', `memory state store full (${bytes} bytes)`);
      }
    }
    bytes += growth;
    entries.set(key, entry);
  };

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      remove(key);
      return undefined;
    }
    return entry;
  };
  const put = (key: string, value: unknown, ttlMs: number): void => {
    store(key, { json: JSON.stringify(value), expiresAt: now() + ttlMs });
  };

  const sweep = setInterval(dropExpired, options.sweepIntervalMs ?? 60_000);
  sweep.unref();

  return {
    async get<T>(key: string) {
      const entry = live(key);
      return entry ? (JSON.parse(entry.json) as T) : undefined;
    },
    async set(key, value, ttlMs) {
      put(key, value, ttlMs);
    },
    async setIfAbsent(key, value, ttlMs) {
      if (live(key)) return false;
      put(key, value, ttlMs);
      return true;
    },
    async take<T>(key: string) {
      const entry = live(key);
      remove(key);
      return entry ? (JSON.parse(entry.json) as T) : undefined;
    },
    async delete(key) {
      remove(key);
    },
    async increment(key, ttlMs) {
      const entry = live(key);
      const count = entry ? (JSON.parse(entry.json) as number) + 1 : 1;
      store(key, { json: String(count), expiresAt: entry ? entry.expiresAt : now() + ttlMs });
      return count;
    },
    async close() {
      clearInterval(sweep);
      entries.clear();
      bytes = 0;
    },
  };
}
