import { describe, expect, it } from 'vitest';
import { createGroupCache } from '../../src/directory/ldap/groups.js';

/** The memberOf strategy's group cache: time, shared reads, failures forgotten. */
describe('group cache', () => {
  const entry = (dn: string) => ({ dn });

  it('answers from memory until the time is over, whatever the case of the DN', async () => {
    let now = 0;
    let reads = 0;
    const cache = createGroupCache(60_000, () => now);
    const load = async () => { reads++; return entry('cn=staff'); };
    await cache.read('cn=staff', load);
    await cache.read('CN=Staff', load);
    expect(reads).toBe(1);
    now = 60_001;
    await cache.read('cn=staff', load);
    expect(reads).toBe(2);
  });

  it('shares one read between concurrent sign-ins', async () => {
    let reads = 0;
    const cache = createGroupCache(60_000);
    const load = () => new Promise<{ dn: string }>((resolve) => { reads++; setTimeout(() => resolve(entry('cn=g')), 10); });
    const all = await Promise.all(Array.from({ length: 20 }, () => cache.read('cn=g', load)));
    expect(reads).toBe(1);
    expect(all.every((e) => e?.dn === 'cn=g')).toBe(true);
  });

  it('does not remember a failed read', async () => {
    const cache = createGroupCache(60_000);
    await expect(cache.read('cn=g', () => Promise.reject(new Error('server down')))).rejects.toThrow('server down');
    await Promise.resolve(); // the cache forgets it in a then-callback
    expect(await cache.read('cn=g', async () => entry('cn=g'))).toEqual({ dn: 'cn=g' });
  });

  it('does not remember a group that was not found (a new group not yet replicated there)', async () => {
    let reads = 0;
    const cache = createGroupCache(60_000);
    const missing = async () => { reads++; return undefined; };
    expect(await cache.read('cn=new', missing)).toBeUndefined();
    await Promise.resolve();
    expect(await cache.read('cn=new', async () => { reads++; return entry('cn=new'); })).toEqual({ dn: 'cn=new' });
    expect(reads).toBe(2);
  });

  it('remembers nothing with time 0', async () => {
    let reads = 0;
    const cache = createGroupCache(0);
    for (let i = 0; i < 3; i++) await cache.read('cn=g', async () => { reads++; return undefined; });
    expect(reads).toBe(3);
  });
});
