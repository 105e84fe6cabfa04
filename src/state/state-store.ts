/**
 * THE shared state: SSO sessions, pending sign-ins, rate-limit counters, replay caches. One
 * in-memory implementation for a single node; Redis (many nodes) implements the same interface
 * and passes the same conformance suite (test/unit/state-store-conformance.ts).
 *
 * Values are JSON-serialisable and copied in and out (as Redis would), so no caller can mutate a
 * stored value by holding a reference.
 */
export interface StateStore {
  get<T>(key: string): Promise<T | undefined>;
  /** Stores a value that expires after ttlMs. */
  set<T>(key: string, value: T, ttlMs: number): Promise<void>;
  /** Stores only if the key is absent; false when it was there (replay detection). */
  setIfAbsent<T>(key: string, value: T, ttlMs: number): Promise<boolean>;
  /** Gets and deletes in one step: a value taken once can never be taken again. */
  take<T>(key: string): Promise<T | undefined>;
  delete(key: string): Promise<void>;
  /** Adds one and returns the new count; the window (ttlMs) starts at the first increment. */
  increment(key: string, ttlMs: number): Promise<number>;
  /**
   * Rejects when the store cannot be used (Redis down): /readyz takes the node out of the load
   * balancer. Absent on a store that is always there (memory).
   */
  checkHealth?(): Promise<void>;
  close(): Promise<void>;
}
