import type { StateStore } from '../state/state-store.js';
import { parseLogin } from '../directory/directory.js';

/**
 * Password attempts are limited per client address (a fixed one-minute window) and failed attempts
 * per username (held back for the failure window once the limit is reached). The per-user limit
 * sits below AD's lockout threshold, so a spray through fedgate cannot lock the real account out.
 * Counters live in the state store, so every node sees the same counts.
 */
export interface RateLimitSettings {
  readonly maxAttemptsPerIpPerMinute: number;
  readonly maxFailuresPerUser: number;
  readonly failureWindowMs: number;
}

export interface RateLimiter {
  /** Counts one attempt from this address; false when the address is over its limit. */
  allowAttempt(clientIp: string, now?: number): Promise<boolean>;
  /** False when this username has failed too often recently (the directory is not asked). */
  userAllowed(login: string): Promise<boolean>;
  recordFailure(login: string): Promise<void>;
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
  return {
    async allowAttempt(clientIp, now = Date.now()) {
      const minute = Math.floor(now / 60_000);
      const count = await store.increment(`rl:ip:${clientIp}:${minute}`, 60_000);
      return count <= settings.maxAttemptsPerIpPerMinute;
    },
    async userAllowed(login) {
      const failures = (await store.get<number>(userKey(login))) ?? 0;
      return failures < settings.maxFailuresPerUser;
    },
    async recordFailure(login) {
      await store.increment(userKey(login), settings.failureWindowMs);
    },
    async recordSuccess(login) {
      await store.delete(userKey(login));
    },
  };
}
