import type { StateStore } from '../state/state-store.js';
import { parseLogin } from '../directory/directory.js';

/**
 * Password attempts are limited per client address (a fixed one-minute window) and per username.
 * The per-user limit sits below AD's lockout threshold, so a spray through fedgate cannot lock the
 * real account out. An attempt is counted BEFORE the directory is asked (parallel requests cannot
 * all slip through a check made before any of them is counted); a success clears the count; once
 * the limit is reached the user is held back for the whole failure window. Counters live in the
 * state store, so every node sees the same counts.
 */
export interface RateLimitSettings {
  readonly maxAttemptsPerIpPerMinute: number;
  readonly maxFailuresPerUser: number;
  readonly failureWindowMs: number;
  /** Sign-ins started (pending sign-ins stored) per client address per minute. */
  readonly maxStartsPerIpPerMinute: number;
}

export interface RateLimiter {
  /** Counts one password attempt from this address; false when the address is over its limit. */
  allowAttempt(clientIp: string, now?: number): Promise<boolean>;
  /** Counts one sign-in started from this address; false when it is over its limit. */
  allowStart(clientIp: string, now?: number): Promise<boolean>;
  /** Counts one attempt for this user; false (and the directory is not asked) when over the limit. */
  claimUserAttempt(login: string): Promise<boolean>;
  /** The password was right: the user's count starts again. */
  recordSuccess(login: string): Promise<void>;
}

/**
 * One key per account however it is typed: `EXAMPLE\alice`, `alice` -> alice; UPNs stay whole.
 * Directories match logins case- and accent-insensitively (slapd folds `ALİCE` to alice), so the
 * key folds the same way: otherwise each spelling would get its own budget of failures.
 */
export function userKey(login: string): string {
  const folded = parseLogin(login).value.normalize('NFKD').replace(/\p{M}/gu, '').replace(/ı/g, 'i').toLowerCase();
  return `rl:user:${folded}`;
}

export function createRateLimiter(store: StateStore, settings: RateLimitSettings): RateLimiter {
  const perMinute = async (kind: string, clientIp: string, max: number, now: number) => {
    const minute = Math.floor(now / 60_000);
    return (await store.increment(`rl:${kind}:${clientIp}:${minute}`, 60_000)) <= max;
  };
  return {
    allowAttempt: (clientIp, now = Date.now()) => perMinute('ip', clientIp, settings.maxAttemptsPerIpPerMinute, now),
    allowStart: (clientIp, now = Date.now()) => perMinute('start', clientIp, settings.maxStartsPerIpPerMinute, now),
    async claimUserAttempt(login) {
      const key = userKey(login);
      const count = await store.increment(key, settings.failureWindowMs);
      if (count < settings.maxFailuresPerUser) return true;
      // At the limit: hold the user back for a whole window from now, not from the first failure.
      await store.set(key, count, settings.failureWindowMs);
      return count === settings.maxFailuresPerUser;
    },
    async recordSuccess(login) {
      await store.delete(userKey(login));
    },
  };
}
