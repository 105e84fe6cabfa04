import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdpError } from '../../src/core/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import { createRedisStore, type RedisStore } from '../../src/state/redis-store.js';
import { COMMAND_TIMEOUT_MS, type RedisStateConfig } from '../../src/state/redis-connection.js';
import { redisServer, type RedisServer } from '../harness/redis.js';
import { stateStoreConformance } from '../unit/state-store-conformance.js';

const server: RedisServer = await redisServer();
const silent = createLogger('silent');
const config = (keyPrefix = 'fedgate:'): RedisStateConfig => ({ type: 'redis', url: server.url, mode: 'standalone', keyPrefix });
const open = (keyPrefix?: string) => createRedisStore(config(keyPrefix), silent);

stateStoreConformance('redis', () => open());

describe('redis store', () => {
  // A client without the prefix sees the keys as Redis holds them.
  let raw: Redis;
  let prefix: string;
  let a: RedisStore;
  let b: RedisStore;
  beforeAll(async () => {
    raw = new Redis(server.url);
    prefix = `test-${randomUUID()}:`;
    // Two stores, two connections: two fedgate nodes.
    [a, b] = await Promise.all([open(prefix), open(prefix)]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close(), raw.quit()]);
    await server.stop();
  });

  it('redis store: every key carries the prefix and a TTL, whatever wrote it', async () => {
    await a.set('set', { v: 1 }, 60_000);
    await a.setIfAbsent('once', 'x', 30_000);
    await a.increment('count', 10_000);
    await a.increment('count', 90_000);
    const keys = (await raw.keys(`${prefix}*`)).sort();
    expect(keys).toEqual([`${prefix}count`, `${prefix}once`, `${prefix}set`]);
    const ttls = Object.fromEntries(await Promise.all(keys.map(async (k) => [k.slice(prefix.length), await raw.pttl(k)] as const)));
    expect(ttls.set).toBeGreaterThan(55_000);
    expect(ttls.once).toBeLessThanOrEqual(30_000);
    expect(ttls.once).toBeGreaterThan(25_000);
    // The window of the first increment, not the second's.
    expect(ttls.count).toBeLessThanOrEqual(10_000);
    expect(ttls.count).toBeGreaterThan(5_000);
    expect(await raw.get(`${prefix}set`)).toBe('{"v":1}');
  });

  it('redis store: a counter left without a TTL gets one at the next increment (no unbounded growth)', async () => {
    await raw.set(`${prefix}legacy`, '7');
    expect(await a.increment('legacy', 5_000)).toBe(8);
    expect(await raw.pttl(`${prefix}legacy`)).toBeGreaterThan(0);
  });

  it('redis store: two installations with different prefixes never see each other', async () => {
    const other = await open(`other-${randomUUID()}:`);
    await a.set('shared-name', 'mine', 60_000);
    expect(await other.get('shared-name')).toBeUndefined();
    await other.close();
  });

  it('redis store: two nodes racing: one setIfAbsent wins, one take gets the value, no increment is lost', async () => {
    const wins = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).setIfAbsent('assertion', i, 60_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);

    await a.set('code', 'single-use', 60_000);
    const taken = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).take<string>('code')));
    expect(taken.filter((t) => t !== undefined)).toEqual(['single-use']);

    const counts = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).increment('failures', 60_000)));
    expect([...counts].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await b.get('failures')).toBe(40);
  });

  it('redis store: in Sentinel mode the store finds the master by name through a Sentinel', async () => {
    const sentinel = await redisServer({ sentinelOf: { master: server, name: 'fedgate-test' } });
    const viaSentinel = await createRedisStore({ type: 'redis', url: [sentinel.url], mode: 'sentinel', sentinelName: 'fedgate-test', keyPrefix: prefix }, silent);
    try {
      await viaSentinel.set('through-sentinel', { ok: true }, 60_000);
      expect(await a.get('through-sentinel')).toEqual({ ok: true });
      expect(await viaSentinel.increment('sentinel-count', 60_000)).toBe(1);
      expect(await viaSentinel.take('through-sentinel')).toEqual({ ok: true });
    } finally {
      await viaSentinel.close();
      await sentinel.stop();
    }
  });

  it('redis store: in Cluster mode the store works through ioredis.Cluster, keys prefixed and with TTLs', async () => {
    const cluster = await redisServer({ cluster: true });
    const clustered = await createRedisStore({ type: 'redis', url: [cluster.url], mode: 'cluster', keyPrefix: prefix }, silent);
    const node = new Redis(cluster.url);
    try {
      await clustered.set('in-cluster', 'v', 60_000);
      expect(await clustered.setIfAbsent('in-cluster', 'w', 60_000)).toBe(false);
      expect(await clustered.increment('cluster-count', 60_000)).toBe(1);
      expect(await node.pttl(`${prefix}cluster-count`)).toBeGreaterThan(0);
      expect(await clustered.take('in-cluster')).toBe('v');
      expect(await node.exists(`${prefix}in-cluster`)).toBe(0);
    } finally {
      node.disconnect();
      await clustered.close();
      await cluster.stop();
    }
  });

  it('redis store: a Redis that hangs fails a command after the command timeout, not never', async () => {
    await raw.call('CLIENT', 'PAUSE', String(COMMAND_TIMEOUT_MS + 300), 'ALL');
    const started = Date.now();
    await expect(a.get('anything')).rejects.toMatchObject({ code: 'state_unavailable' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 100);
    expect(Date.now() - started).toBeLessThan(COMMAND_TIMEOUT_MS + 900);
    await raw.call('CLIENT', 'UNPAUSE');
    expect(await a.get('anything')).toBeUndefined();
  });

  it('redis store: Redis down fails fast with state_unavailable; back up, the same store works again', async () => {
    expect(await a.checkHealth!()).toBeUndefined();
    await server.stop();
    const started = Date.now();
    const failure = await a.set('k', 'v', 60_000).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(IdpError);
    expect((failure as IdpError).code).toBe('state_unavailable');
    expect((failure as IdpError).status).toBe(503);
    await expect(a.checkHealth!()).rejects.toMatchObject({ code: 'state_unavailable' });
    await expect(b.get('k')).rejects.toMatchObject({ code: 'state_unavailable' });
    expect(Date.now() - started).toBeLessThan(5_000);

    await server.start();
    await expect.poll(() => a.checkHealth!().then(() => true, () => false), { timeout: 10_000, interval: 100 }).toBe(true);
    await a.set('k', 'v', 60_000);
    await expect.poll(() => b.get('k').catch(() => 'down'), { timeout: 10_000, interval: 100 }).toBe('v');
  });
});
