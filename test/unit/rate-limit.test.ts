import { describe, expect, it } from 'vitest';
import { clientNetwork, createRateLimiter } from '../../src/authn/rate-limit.js';
import { createMemoryStore } from '../../src/state/memory-store.js';

describe('rate limits per client', () => {
  it('an IPv6 client is its /64 (it can pick any address in it); IPv4 and IPv4-mapped addresses are themselves', () => {
    expect(clientNetwork('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
    expect(clientNetwork('203.0.113.9')).toBe('203.0.113.9');
    expect(clientNetwork('::ffff:203.0.113.9')).toBe('203.0.113.9');
  });

  it('addresses of one /64 share one budget', async () => {
    const limiter = createRateLimiter(createMemoryStore(), { maxAttemptsPerIpPerMinute: 2, maxFailuresPerUser: 5, failureWindowMs: 60_000, maxStartsPerIpPerMinute: 10,
      unfamiliarMaxFailuresPerUser: 3, familiarAddressLifetimeMs: 86_400_000 });
    const now = 1_000_000;
    expect(await limiter.allowAttempt('2001:db8:1:2::a', now)).toBe(true);
    expect(await limiter.allowAttempt('2001:db8:1:2::b', now)).toBe(true);
    expect(await limiter.allowAttempt('2001:db8:1:2::c', now)).toBe(false);
    expect(await limiter.allowAttempt('2001:db8:1:3::a', now)).toBe(true);
  });
});
