import type { StateStore } from '../state/state-store.js';
import { isIPv4, isIPv6 } from 'node:net';
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
  /**
   * Counts one attempt for this login, and for the account it is known to resolve to; false (and
   * the directory is not asked) when either is over the limit.
   */
  claimUserAttempt(login: string): Promise<boolean>;
  /**
   * A wrong password for `account` (from the directory): remembers which account this spelling
   * resolves to, so that `alice`, `alice@example.com` and `alice@mail.example.com` share one budget.
   */
  recordFailure(login: string, account: string | undefined): Promise<void>;
  /** The password was right: the counts start again. */
  recordSuccess(login: string, account: string | undefined): Promise<void>;
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

/**
 * What one client is, for per-address limits: an IPv4 address, or an IPv6 /64 (one host usually
 * has a whole /64 to pick addresses from, so a per-address limit would not limit it).
 */
export function clientNetwork(address: string): string {
  const plain = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (!isIPv6(plain)) return plain;
  const [head = '', tail = ''] = plain.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = plain.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)).join(':')}::/64`;
}

const aliasKey = (typedKey: string) => `rl:alias:${typedKey}`;
const accountKey = (account: string) => `rl:account:${account}`;

export function createRateLimiter(store: StateStore, settings: RateLimitSettings): RateLimiter {
  const perMinute = async (kind: string, clientIp: string, max: number, now: number) => {
    const minute = Math.floor(now / 60_000);
    return (await store.increment(`rl:${kind}:${clientNetwork(clientIp)}:${minute}`, 60_000)) <= max;
  };
  /** Counts one attempt against `key`; at the limit the key is held back a whole window from now. */
  const claim = async (key: string) => {
    const count = await store.increment(key, settings.failureWindowMs);
    if (count < settings.maxFailuresPerUser) return true;
    await store.set(key, count, settings.failureWindowMs);
    return count === settings.maxFailuresPerUser;
  };
  return {
    allowAttempt: (clientIp, now = Date.now()) => perMinute('ip', clientIp, settings.maxAttemptsPerIpPerMinute, now),
    allowStart: (clientIp, now = Date.now()) => perMinute('start', clientIp, settings.maxStartsPerIpPerMinute, now),
    async claimUserAttempt(login) {
      const key = userKey(login);
      const account = await store.get<string>(aliasKey(key));
      const typed = await claim(key);
      return account ? (await claim(accountKey(account))) && typed : typed;
    },
    async recordFailure(login, account) {
      if (!account) return;
      const alias = aliasKey(userKey(login));
      // A spelling seen for the first time was not counted against its account yet.
      if ((await store.get<string>(alias)) !== account) await claim(accountKey(account));
      await store.set(alias, account, settings.failureWindowMs);
    },
    async recordSuccess(login, account) {
      await store.delete(userKey(login));
      if (account) await store.delete(accountKey(account));
    },
  };
}
