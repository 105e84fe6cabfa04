import type { StateStore } from '../state/state-store.js';

/**
 * Password attempts counted per key (a user or an account, at familiar or unfamiliar addresses),
 * as AD FS's extranet smart lockout counts them: up to `threshold` attempts reach the directory;
 * past it the key is locked out for `windowMs`; after the window ONE attempt is allowed and the
 * window restarts from it. Only a success clears the count: waiting never gives back the budget,
 * so a slow spray gets one guess per window, and AD's own count (reset after its observation
 * window) never reaches its threshold.
 *
 * Attempts are counted before the directory is asked, with the store's atomic operations only
 * (increment, setIfAbsent): parallel attempts get distinct counts, and exactly one of them can
 * take the attempt a window allows.
 */
export interface LockoutCounter {
  /** Counts one attempt; false when the key is locked out (the directory must not be asked). */
  claim(key: string, threshold: number): Promise<boolean>;
  /** Counts an attempt that already reached the directory (its key was not known before). */
  count(key: string, threshold: number): Promise<void>;
  /** A success: the count starts again. */
  reset(key: string): Promise<void>;
}

/** When the lockout window (re)started: the attempt that reached the threshold, or the last one a window allowed. */
const sinceKey = (key: string) => `${key}:since`;
/** The one attempt allowed after the window that started at `since`. */
const afterKey = (key: string, since: number) => `${key}:after:${since}`;

/**
 * @param memoryMs how long counts are kept without any attempt (they have to expire some day in a
 *   store shared by every user; AD FS keeps them until a success).
 */
export function createLockoutCounter(store: StateStore, windowMs: number, memoryMs: number, now: () => number): LockoutCounter {
  const counted = async (key: string, threshold: number) => {
    const n = await store.increment(key, memoryMs);
    if (n === threshold) await store.set(sinceKey(key), now(), memoryMs);
    return n;
  };
  return {
    async claim(key, threshold) {
      if ((await counted(key, threshold)) <= threshold) return true;
      const since = await store.get<number>(sinceKey(key));
      if (since === undefined) {
        // The attempt that reached the threshold has not written its time yet (or it expired).
        await store.setIfAbsent(sinceKey(key), now(), memoryMs);
        return false;
      }
      if (now() < since + windowMs || !(await store.setIfAbsent(afterKey(key, since), true, windowMs))) return false;
      await store.set(sinceKey(key), now(), memoryMs);
      return true;
    },
    async count(key, threshold) {
      await counted(key, threshold);
    },
    async reset(key) {
      await Promise.all([store.delete(key), store.delete(sinceKey(key))]);
    },
  };
}
