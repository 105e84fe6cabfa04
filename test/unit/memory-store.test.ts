import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/state/memory-store.js';
import { stateStoreConformance } from './state-store-conformance.js';

stateStoreConformance('memory', (now) => createMemoryStore({ now }));

describe('memory store', () => {
  it('memory store: expiry follows the injected clock, not the wall clock', async () => {
    let t = 1_000;
    const store = createMemoryStore({ now: () => t });
    await store.set('k', 'v', 10_000);
    t += 9_999;
    expect(await store.get('k')).toBe('v');
    t += 1;
    expect(await store.get('k')).toBeUndefined();
    await store.close();
  });

  it('memory store: the periodic sweep drops expired entries that are never read again', async () => {
    let t = 0;
    const store = createMemoryStore({ now: () => t, sweepIntervalMs: 10 });
    await store.set('k', 'v', 5);
    t = 100;
    await sleep(40);
    t = 0; // were the entry still there, it would be live again at t=0
    expect(await store.get('k')).toBeUndefined();
    await store.close();
  });

  it('memory store: close empties the store', async () => {
    const store = createMemoryStore();
    await store.set('k', 'v', 60_000);
    await store.close();
    expect(await store.get('k')).toBeUndefined();
  });
});

describe('memory store ceiling', () => {
  it('refuses new values past maxBytes with a 503 "busy" (after dropping what expired), and frees space on delete and take', async () => {
    let t = 0;
    const store = createMemoryStore({ maxBytes: 100, now: () => t });
    await store.set('a', 'x'.repeat(40), 1000);
    await store.set('b', 'x'.repeat(40), 10);
    await expect(store.set('c', 'x'.repeat(40), 1000)).rejects.toMatchObject({ code: 'service_busy', status: 503 });
    t = 20; // b expired: its space comes back
    await store.set('c', 'x'.repeat(40), 1000);
    await store.delete('a');
    await store.set('d', 'x'.repeat(40), 1000);
    expect(await store.take('c')).toBe('x'.repeat(40));
    await store.set('e', 'x'.repeat(40), 1000);
    await store.close();
  });
});
