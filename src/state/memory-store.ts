import type { StateStore } from './state-store.js';

interface Entry {
  readonly json: string;
  readonly expiresAt: number;
}

/** Single-node state store. Expired entries are dropped on read and by a periodic sweep. */
export function createMemoryStore(options: { sweepIntervalMs?: number; now?: () => number } = {}): StateStore {
  const entries = new Map<string, Entry>();
  const now = options.now ?? Date.now;

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const put = (key: string, value: unknown, ttlMs: number): void => {
    entries.set(key, { json: JSON.stringify(value), expiresAt: now() + ttlMs });
  };

  const sweep = setInterval(() => {
    const t = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= t) entries.delete(key);
  }, options.sweepIntervalMs ?? 60_000);
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
      entries.delete(key);
      return entry ? (JSON.parse(entry.json) as T) : undefined;
    },
    async delete(key) {
      entries.delete(key);
    },
    async increment(key, ttlMs) {
      const entry = live(key);
      const count = entry ? (JSON.parse(entry.json) as number) + 1 : 1;
      entries.set(key, { json: String(count), expiresAt: entry ? entry.expiresAt : now() + ttlMs });
      return count;
    },
    async close() {
      clearInterval(sweep);
      entries.clear();
    },
  };
}
