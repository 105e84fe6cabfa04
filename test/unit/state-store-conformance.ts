import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StateStore } from '../../src/state/state-store.js';

/**
 * The one conformance suite every StateStore implementation passes (memory now, Redis later).
 *
 * `makeStore(now)` builds a fresh store. A store with an injectable clock uses `now`; one that
 * cannot (Redis expires keys itself) ignores it. The suite lets time pass by advancing that clock
 * AND waiting the same real time, so TTLs are short and both kinds expire alike. Keys carry a
 * random prefix per test, so a shared server needs no flushing between tests.
 */
export function stateStoreConformance(name: string, makeStore: (now: () => number) => StateStore | Promise<StateStore>): void {
  describe(`state store conformance: ${name}`, () => {
    const TTL = 300;
    let clock = 0;
    let store: StateStore;
    let closed = false;
    let prefix = '';
    const k = (key: string) => `${prefix}${key}`;
    const elapse = async (ms: number) => {
      clock += ms;
      await sleep(ms);
    };

    beforeEach(async () => {
      clock = Date.now();
      closed = false;
      prefix = `conformance:${randomUUID()}:`;
      store = await makeStore(() => clock);
    });
    afterEach(async () => {
      if (!closed) await store.close();
    });

    it(`${name}: get returns what set stored, and undefined for an unknown key`, async () => {
      await store.set(k('a'), { user: 'alice', groups: ['g1'], n: 1, ok: true }, 60_000);
      await store.set(k('s'), 'text', 60_000);
      await store.set(k('n'), 42, 60_000);
      expect(await store.get(k('a'))).toEqual({ user: 'alice', groups: ['g1'], n: 1, ok: true });
      expect(await store.get(k('s'))).toBe('text');
      expect(await store.get(k('n'))).toBe(42);
      expect(await store.get(k('missing'))).toBeUndefined();
    });

    it(`${name}: set replaces the value and its expiry`, async () => {
      await store.set(k('a'), 'first', TTL);
      await store.set(k('a'), 'second', 60_000);
      await elapse(TTL + 100);
      expect(await store.get(k('a'))).toBe('second');
    });

    it(`${name}: a value expires after its TTL and not before`, async () => {
      await store.set(k('a'), 'v', TTL);
      await elapse(TTL / 3);
      expect(await store.get(k('a'))).toBe('v');
      await elapse(TTL);
      expect(await store.get(k('a'))).toBeUndefined();
    });

    it(`${name}: values are copied in and out, so holding a reference cannot change what is stored`, async () => {
      const value = { user: 'alice', groups: ['g1'] };
      await store.set(k('a'), value, 60_000);
      value.groups.push('injected');
      value.user = 'mallory';
      const out = await store.get<{ user: string; groups: string[] }>(k('a'));
      expect(out).toEqual({ user: 'alice', groups: ['g1'] });
      out!.groups.push('changed');
      expect(await store.get(k('a'))).toEqual({ user: 'alice', groups: ['g1'] });
      const taken = await store.get<{ groups: string[] }>(k('a'));
      expect(taken).not.toBe(out);
    });

    it(`${name}: setIfAbsent stores only the first time (replay detection)`, async () => {
      expect(await store.setIfAbsent(k('assertion-id'), 'first', 60_000)).toBe(true);
      expect(await store.setIfAbsent(k('assertion-id'), 'replay', 60_000)).toBe(false);
      expect(await store.get(k('assertion-id'))).toBe('first');
    });

    it(`${name}: setIfAbsent succeeds again once the earlier value has expired`, async () => {
      expect(await store.setIfAbsent(k('id'), 1, TTL)).toBe(true);
      await elapse(TTL + 100);
      expect(await store.setIfAbsent(k('id'), 2, 60_000)).toBe(true);
      expect(await store.get(k('id'))).toBe(2);
    });

    it(`${name}: of concurrent setIfAbsent calls exactly one wins`, async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.setIfAbsent(k('race'), i, 60_000)));
      expect(results.filter((r) => r)).toHaveLength(1);
      expect(await store.get(k('race'))).toBe(results.indexOf(true));
    });

    it(`${name}: take returns the value once and deletes it`, async () => {
      await store.set(k('code'), { sub: 'alice' }, 60_000);
      expect(await store.take(k('code'))).toEqual({ sub: 'alice' });
      expect(await store.take(k('code'))).toBeUndefined();
      expect(await store.get(k('code'))).toBeUndefined();
      expect(await store.take(k('never-set'))).toBeUndefined();
    });

    it(`${name}: take is one-shot even under concurrent calls`, async () => {
      await store.set(k('code'), 'single-use', 60_000);
      const results = await Promise.all(Array.from({ length: 20 }, () => store.take<string>(k('code'))));
      expect(results.filter((r) => r !== undefined)).toEqual(['single-use']);
    });

    it(`${name}: an expired value cannot be taken`, async () => {
      await store.set(k('code'), 'v', TTL);
      await elapse(TTL + 100);
      expect(await store.take(k('code'))).toBeUndefined();
    });

    it(`${name}: delete removes a value and ignores an unknown key`, async () => {
      await store.set(k('a'), 'v', 60_000);
      await store.set(k('b'), 'w', 60_000);
      await store.delete(k('a'));
      await store.delete(k('unknown'));
      expect(await store.get(k('a'))).toBeUndefined();
      expect(await store.get(k('b'))).toBe('w');
    });

    it(`${name}: increment counts from 1 per key`, async () => {
      expect(await store.increment(k('ip'), 60_000)).toBe(1);
      expect(await store.increment(k('ip'), 60_000)).toBe(2);
      expect(await store.increment(k('ip'), 60_000)).toBe(3);
      expect(await store.increment(k('other'), 60_000)).toBe(1);
    });

    it(`${name}: increment keeps the window of its first call, then starts again`, async () => {
      expect(await store.increment(k('user'), TTL)).toBe(1);
      await elapse((TTL * 2) / 3);
      expect(await store.increment(k('user'), TTL)).toBe(2);
      await elapse((TTL * 2) / 3);
      expect(await store.increment(k('user'), TTL)).toBe(1);
    });

    it(`${name}: concurrent increments lose no count`, async () => {
      const results = await Promise.all(Array.from({ length: 25 }, () => store.increment(k('burst'), 60_000)));
      expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    });

    it(`${name}: keys are independent`, async () => {
      await store.set(k('a'), 'A', 60_000);
      await store.set(k('a:b'), 'AB', 60_000);
      expect(await store.take(k('a'))).toBe('A');
      expect(await store.get(k('a:b'))).toBe('AB');
    });

    it(`${name}: close resolves`, async () => {
      await store.set(k('a'), 'v', 60_000);
      closed = true;
      await expect(store.close()).resolves.toBeUndefined();
    });
  });
}
