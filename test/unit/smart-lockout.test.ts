import { describe, expect, it } from 'vitest';
import { MAX_FAMILIAR_ADDRESSES } from '../../src/authn/familiar-addresses.js';
import { createRateLimiter, type RateLimitSettings } from '../../src/authn/rate-limit.js';
import { createMemoryStore } from '../../src/state/memory-store.js';

/**
 * Smart lockout (entra-federation.md §9, AD FS's extranet smart lockout) on the real memory store,
 * with one fake clock for the store's TTLs and the limiter.
 */
const MINUTE = 60_000;
const DAY = 86_400_000;
const ALICE = 'cn=alice,cn=users,dc=example,dc=test';
const HOME = '203.0.113.5';
const ATTACKER = '198.51.100.66';

function setup(overrides: Partial<RateLimitSettings> = {}) {
  const clock = { t: 1_700_000_000_000 };
  const now = () => clock.t;
  const limiter = createRateLimiter(createMemoryStore({ now }), {
    maxAttemptsPerIpPerMinute: 1000, maxStartsPerIpPerMinute: 1000, failureWindowMs: 15 * MINUTE,
    maxFailuresPerUser: 5, unfamiliarMaxFailuresPerUser: 3, familiarAddressLifetimeMs: 14 * DAY, now, ...overrides,
  });
  /** An attempt that reaches the directory and fails (as the pipeline records a wrong password). */
  const fail = async (login: string, addresses: readonly string[], account: string | undefined = ALICE) => {
    const attempt = await limiter.claimUserAttempt(login, addresses);
    if (attempt.allowed) await limiter.recordFailure(login, account);
    return attempt;
  };
  /** How many of `n` wrong passwords from `addresses` reach the directory. */
  const reaching = async (n: number, login: string, addresses: readonly string[]) => {
    let count = 0;
    for (let i = 0; i < n; i++) if ((await fail(login, addresses)).allowed) count++;
    return count;
  };
  const signIn = (login: string, addresses: readonly string[]) => limiter.recordSuccess(login, ALICE, addresses);
  return { clock, limiter, fail, reaching, signIn };
}

describe('smart lockout: familiar and unfamiliar addresses', () => {
  it('an address becomes familiar by a sign-in from it; a spray from elsewhere uses only the unfamiliar budget', async () => {
    const { limiter, reaching, signIn } = setup();
    expect(await limiter.claimUserAttempt('alice', [HOME])).toEqual({ allowed: true, location: 'unfamiliar' });
    await signIn('alice', [HOME]);
    expect(await reaching(20, 'alice', [ATTACKER])).toBe(3);
    expect(await limiter.claimUserAttempt('alice', [ATTACKER])).toEqual({ allowed: false, location: 'unfamiliar' });
    // The owner still gets the whole familiar budget, then is held back too.
    expect(await reaching(10, 'alice', [HOME])).toBe(5);
    expect(await limiter.claimUserAttempt('alice', [HOME])).toEqual({ allowed: false, location: 'familiar' });
  });

  it('an attempt is familiar only when every presented address is (a proxy adds the client it forwards)', async () => {
    const { limiter, signIn } = setup();
    await signIn('alice', [HOME, '192.0.2.10']);
    expect((await limiter.claimUserAttempt('alice', [HOME, '192.0.2.10'])).location).toBe('familiar');
    expect((await limiter.claimUserAttempt('alice', [HOME])).location).toBe('familiar');
    expect((await limiter.claimUserAttempt('alice', ['192.0.2.10', ATTACKER])).location).toBe('unfamiliar');
    expect((await limiter.claimUserAttempt('alice', [])).location).toBe('unfamiliar');
  });

  it('familiarity is per account: another user signing in from the address does not make it familiar to alice', async () => {
    const { limiter } = setup();
    await limiter.recordSuccess('bob', 'cn=bob,cn=users,dc=example,dc=test', [ATTACKER]);
    await limiter.recordFailure('alice', ALICE);
    expect((await limiter.claimUserAttempt('alice', [ATTACKER])).location).toBe('unfamiliar');
  });

  it('keeps the 20 most recent addresses, evicting the oldest', async () => {
    const { clock, limiter, signIn } = setup();
    for (let i = 0; i <= MAX_FAMILIAR_ADDRESSES; i++) {
      await signIn('alice', [`192.0.2.${i}`]);
      clock.t += MINUTE;
    }
    expect((await limiter.claimUserAttempt('alice', ['192.0.2.0'])).location).toBe('unfamiliar');
    expect((await limiter.claimUserAttempt('alice', ['192.0.2.1'])).location).toBe('familiar');
    expect((await limiter.claimUserAttempt('alice', [`192.0.2.${MAX_FAMILIAR_ADDRESSES}`])).location).toBe('familiar');
    // Signing in again from an address makes it the newest: it outlives the others.
    await signIn('alice', ['192.0.2.1']);
    await signIn('alice', ['192.0.2.99']);
    expect((await limiter.claimUserAttempt('alice', ['192.0.2.1'])).location).toBe('familiar');
    expect((await limiter.claimUserAttempt('alice', ['192.0.2.2'])).location).toBe('unfamiliar');
  });

  it('an address stays familiar for familiarAddressLifetime after the last sign-in from it', async () => {
    const { clock, limiter, signIn } = setup();
    await signIn('alice', [HOME]);
    clock.t += 10 * DAY;
    await signIn('alice', ['192.0.2.7']);
    clock.t += 4 * DAY - 1;
    expect((await limiter.claimUserAttempt('alice', [HOME])).location).toBe('familiar');
    clock.t += 1;
    expect((await limiter.claimUserAttempt('alice', [HOME])).location).toBe('unfamiliar');
    expect((await limiter.claimUserAttempt('alice', ['192.0.2.7'])).location).toBe('familiar');
    await signIn('alice', ['192.0.2.7']);
    clock.t += 14 * DAY;
    expect((await limiter.claimUserAttempt('alice', ['192.0.2.7'])).location).toBe('unfamiliar');
  });

  it('compares IPv6 addresses by /64 and IPv4-mapped addresses as IPv4', async () => {
    const { limiter, signIn } = setup();
    await signIn('alice', ['2001:db8:1:2::a', '::ffff:203.0.113.5']);
    expect((await limiter.claimUserAttempt('alice', ['2001:db8:1:2:dead:beef::1', HOME])).location).toBe('familiar');
    expect((await limiter.claimUserAttempt('alice', ['2001:db8:1:3::a'])).location).toBe('unfamiliar');
    expect((await limiter.claimUserAttempt('alice', ['203.0.113.6'])).location).toBe('unfamiliar');
  });

  it('every spelling of the account shares its familiar addresses and its budgets', async () => {
    const { limiter, fail, reaching, signIn } = setup();
    await signIn('alice', [HOME]);
    // Each other spelling is unknown until the directory resolves it once (then counted retroactively).
    await fail('alice@example.test', [ATTACKER]);
    await fail('EXAMPLE\\Alice', [ATTACKER]);
    expect((await limiter.claimUserAttempt('ALICE@example.test', [HOME])).location).toBe('familiar');
    expect(await reaching(5, 'EXAMPLE\\ALİCE', [ATTACKER])).toBe(1);
    expect(await reaching(5, 'alice@example.test', [ATTACKER])).toBe(0);
    expect(await reaching(5, 'alice', [ATTACKER])).toBe(0);
  });
});

describe('smart lockout: the window', () => {
  it('after the window ONE attempt is allowed and the window restarts from it; waiting never restores the budget', async () => {
    const { clock, limiter, reaching } = setup();
    expect(await reaching(3, 'alice', [ATTACKER])).toBe(3);
    clock.t += 15 * MINUTE - 1;
    expect(await reaching(1, 'alice', [ATTACKER])).toBe(0);
    clock.t += 1;
    expect(await reaching(5, 'alice', [ATTACKER])).toBe(1);
    clock.t += 15 * MINUTE - 1;
    expect(await reaching(1, 'alice', [ATTACKER])).toBe(0);
    clock.t += 1;
    expect(await reaching(5, 'alice', [ATTACKER])).toBe(1);
    // A day later: still one attempt, not a fresh budget of three.
    clock.t += DAY;
    expect(await reaching(5, 'alice', [ATTACKER])).toBe(1);
  });

  it('a failure count resets only on a success (which resets both)', async () => {
    const { clock, limiter, reaching, signIn } = setup();
    await signIn('alice', [HOME]);
    expect(await reaching(2, 'alice', [ATTACKER])).toBe(2);
    expect(await reaching(4, 'alice', [HOME])).toBe(4);
    clock.t += 16 * MINUTE;
    // Failures were not forgotten: one unfamiliar, one familiar left.
    expect(await reaching(3, 'alice', [ATTACKER])).toBe(1);
    expect(await reaching(3, 'alice', [HOME])).toBe(1);
    await signIn('alice', [HOME]);
    expect(await reaching(5, 'alice', [ATTACKER])).toBe(3);
    expect(await reaching(9, 'alice', [HOME])).toBe(5);
  });

  it('the right password for an account that may not sign in (disabled...) resets counts but makes nothing familiar', async () => {
    const { limiter, reaching } = setup();
    expect(await reaching(3, 'alice', [ATTACKER])).toBe(3);
    await limiter.recordSuccess('alice', ALICE);
    expect(await reaching(5, 'alice', [ATTACKER])).toBe(3);
  });

  it('parallel attempts never pass the threshold, locked or after a window', async () => {
    const { clock, limiter, signIn } = setup();
    await signIn('alice', [HOME]);
    const burst = async (addresses: readonly string[]) =>
      (await Promise.all(Array.from({ length: 50 }, () => limiter.claimUserAttempt('alice', addresses)))).filter((a) => a.allowed).length;
    expect(await burst([ATTACKER])).toBe(3);
    expect(await burst([HOME])).toBe(5);
    clock.t += 15 * MINUTE;
    expect(await burst([ATTACKER])).toBe(1);
    expect(await burst([HOME])).toBe(1);
    expect(await burst([ATTACKER])).toBe(0);
  });
});
