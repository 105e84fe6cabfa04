import type { StateStore } from '../state/state-store.js';
import { parseLogin } from '../directory/directory.js';
import { clientNetwork } from './address-network.js';
import { createFamiliarAddresses } from './familiar-addresses.js';
import { createLockoutCounter } from './lockout-counter.js';

export { clientNetwork } from './address-network.js';

/**
 * Password attempts are limited per client address (a fixed one-minute window) and per username,
 * as AD FS's extranet smart lockout does (entra-federation.md §9): each account has familiar
 * addresses (where it signed in from) and two budgets of failures, one for attempts from familiar
 * addresses and a smaller one for all others. A password spray from strangers uses up only the
 * unfamiliar budget, below AD's lockout threshold: the real account is never locked out, and its
 * owner still signs in from home. An attempt is counted BEFORE the directory is asked (parallel
 * requests cannot all slip through a check made before any of them is counted); only a success
 * clears the counts (lockout-counter.ts). Everything lives in the state store, so every node sees
 * the same counts.
 */
export interface RateLimitSettings {
  readonly maxAttemptsPerIpPerMinute: number;
  readonly maxFailuresPerUser: number;
  readonly failureWindowMs: number;
  /** Sign-ins started (pending sign-ins stored) per client address per minute. */
  readonly maxStartsPerIpPerMinute: number;
  /** Failures per user from addresses that are not all familiar (AD FS: ExtranetLockoutThreshold). */
  readonly unfamiliarMaxFailuresPerUser: number;
  /** How long an address stays familiar after a sign-in from it (counts are kept as long). */
  readonly familiarAddressLifetimeMs: number;
  readonly now?: () => number;
}

/** Where a password attempt comes from, for the user it names. */
export type AttemptLocation = 'familiar' | 'unfamiliar';

export interface UserAttempt {
  /** False when the user is locked out at this location: the directory must not be asked. */
  readonly allowed: boolean;
  readonly location: AttemptLocation;
}

export interface RateLimiter {
  /** Counts one password attempt from this address; false when the address is over its limit. */
  allowAttempt(clientIp: string, now?: number): Promise<boolean>;
  /** Counts one sign-in started from this address; false when it is over its limit. */
  allowStart(clientIp: string, now?: number): Promise<boolean>;
  /**
   * Counts one attempt for the account this login is known to resolve to (else for the login as
   * typed, until the directory resolves it once), at familiar
   * addresses when every one of `addresses` is familiar to that account (the client's, and for a
   * proxied request the addresses the proxy reported), else at unfamiliar ones. Not allowed (and
   * the directory is not asked) when either is locked out there.
   */
  claimUserAttempt(login: string, addresses: readonly string[]): Promise<UserAttempt>;
  /**
   * A wrong password for `account` (from the directory): remembers which account this spelling
   * resolves to, so that `alice`, `alice@example.com` and `alice@mail.example.com` share one budget.
   */
  recordFailure(login: string, account: string | undefined): Promise<void>;
  /**
   * The password was right: the counts start again. `addresses` signed in (the user got in, not
   * just a right password for a disabled account): they become familiar to the account.
   */
  recordSuccess(login: string, account: string | undefined, addresses?: readonly string[]): Promise<void>;
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

const aliasKey = (typedKey: string) => `rl:alias:${typedKey}`;
const accountKey = (account: string) => `rl:account:${account}`;

const LOCATIONS: readonly AttemptLocation[] = ['familiar', 'unfamiliar'];

export function createRateLimiter(store: StateStore, settings: RateLimitSettings): RateLimiter {
  const now = settings.now ?? Date.now;
  const memoryMs = settings.familiarAddressLifetimeMs;
  const familiar = createFamiliarAddresses(store, memoryMs, now);
  const lockout = createLockoutCounter(store, settings.failureWindowMs, Math.max(memoryMs, settings.failureWindowMs), now);
  const threshold = (location: AttemptLocation) =>
    location === 'familiar' ? settings.maxFailuresPerUser : settings.unfamiliarMaxFailuresPerUser;
  const perMinute = async (kind: string, clientIp: string, max: number, at: number) => {
    const minute = Math.floor(at / 60_000);
    return (await store.increment(`rl:${kind}:${clientNetwork(clientIp)}:${minute}`, 60_000)) <= max;
  };
  // Aliases live as long as familiar addresses: a spelling the user signed in with finds them.
  const remember = (typedKey: string, account: string) => store.set(aliasKey(typedKey), account, memoryMs);
  return {
    allowAttempt: (clientIp, at = now()) => perMinute('ip', clientIp, settings.maxAttemptsPerIpPerMinute, at),
    allowStart: (clientIp, at = now()) => perMinute('start', clientIp, settings.maxStartsPerIpPerMinute, at),
    async claimUserAttempt(login, addresses) {
      const key = userKey(login);
      const account = await store.get<string>(aliasKey(key));
      // A spelling never seen with its account cannot know the account's addresses: unfamiliar.
      const location: AttemptLocation = account && (await familiar.areFamiliar(account, addresses)) ? 'familiar' : 'unfamiliar';
      // One counter per attempt, so that parallel attempts after a window race for one allowed
      // attempt, not for two that different attempts could each win.
      const allowed = await lockout.claim(`${account ? accountKey(account) : key}:${location}`, threshold(location));
      return { allowed, location };
    },
    async recordFailure(login, account) {
      if (!account) return;
      const key = userKey(login);
      // A spelling seen for the first time was not counted against its account yet (it was an
      // unfamiliar attempt: without the account, its addresses were not known).
      if ((await store.get<string>(aliasKey(key))) !== account) await lockout.count(`${accountKey(account)}:unfamiliar`, threshold('unfamiliar'));
      await remember(key, account);
    },
    async recordSuccess(login, account, addresses = []) {
      const key = userKey(login);
      await Promise.all(LOCATIONS.map((location) => lockout.reset(`${key}:${location}`)));
      if (!account) return;
      await Promise.all(LOCATIONS.map((location) => lockout.reset(`${accountKey(account)}:${location}`)));
      await remember(key, account);
      await familiar.add(account, addresses);
    },
  };
}
