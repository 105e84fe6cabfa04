import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/core/principal.js';
import { createSessions, type SessionSettings } from '../../src/session/sessions.js';
import { createMemoryStore } from '../../src/state/memory-store.js';
import type { StateStore } from '../../src/state/state-store.js';

const HOUR = 3_600_000;
const SETTINGS: SessionSettings = { lifetimeMs: 8 * HOUR, idleTimeoutMs: HOUR, persistentLifetimeMs: 24 * HOUR };

const alice: Principal = {
  user: { dn: 'uid=alice,ou=people,dc=example,dc=test', username: 'alice', groups: ['staff'], groupDns: ['cn=staff,ou=groups,dc=example,dc=test'] },
  authentication: { kind: 'password', instant: '2026-11-26T09:00:00.000Z' },
};

/** Sessions over a memory store sharing one fake clock, recording the keys written. */
function setup(settings: SessionSettings = SETTINGS) {
  const clock = { t: Date.UTC(2026, 10, 26, 9) };
  const now = () => clock.t;
  const memory = createMemoryStore({ now });
  const writtenKeys: string[] = [];
  const store: StateStore = { ...memory, set: (key, value, ttl) => (writtenKeys.push(key), memory.set(key, value, ttl)) };
  return { clock, store, writtenKeys, sessions: createSessions(store, settings, now) };
}

describe('sessions', () => {
  it('sessions: a created session is found by its id and carries the principal', async () => {
    const { sessions, clock } = setup();
    const { id, session } = await sessions.create(alice, { persistent: false });
    expect(session).toMatchObject({ principal: alice, createdAt: clock.t, lastSeenAt: clock.t, expiresAt: clock.t + 8 * HOUR, persistent: false, relyingParties: [] });
    expect(session.csrfToken).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(await sessions.use(id)).toEqual(session);
  });

  it('sessions: a session continuing another keeps its sign-on (ssoId, applications) under a new id; a fresh one has its own', async () => {
    const { sessions } = setup();
    const first = await sessions.create(alice, { persistent: false });
    await sessions.addRelyingParty(first.id, 'https://sp.example.org');
    const before = (await sessions.destroy(first.id))!;
    const again = await sessions.create(alice, { persistent: false, continues: before });
    expect(again.id).not.toBe(first.id);
    expect(again.session.ssoId).toBe(first.session.ssoId);
    expect(again.session.relyingParties).toEqual(['https://sp.example.org']);
    const other = await sessions.create(alice, { persistent: false });
    expect(other.session.ssoId).not.toBe(first.session.ssoId);
    expect(other.session.ssoId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(other.session.relyingParties).toEqual([]);
  });

  it('sessions: ids are at least 128 random bits, URL-safe and distinct', async () => {
    const { sessions } = setup();
    const ids = await Promise.all(Array.from({ length: 50 }, async () => (await sessions.create(alice, { persistent: false })).id));
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(id, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    }
    const csrf = await Promise.all(Array.from({ length: 10 }, async () => (await sessions.create(alice, { persistent: false })).session.csrfToken));
    expect(new Set(csrf).size).toBe(10);
  });

  it('sessions: the store key is not the cookie id', async () => {
    const { sessions, store, writtenKeys } = setup();
    const { id } = await sessions.create(alice, { persistent: false });
    expect(writtenKeys).toHaveLength(1);
    expect(writtenKeys[0]).not.toContain(id);
    expect(await store.get(id)).toBeUndefined();
    expect(await store.get(`session:${id}`)).toBeUndefined();
    expect(await store.get(writtenKeys[0]!)).toBeDefined();
  });

  it('sessions: unknown, empty and oversized ids find nothing', async () => {
    const { sessions } = setup();
    const { id } = await sessions.create(alice, { persistent: false });
    expect(await sessions.use(undefined)).toBeUndefined();
    expect(await sessions.use('')).toBeUndefined();
    expect(await sessions.use(id.slice(0, -1))).toBeUndefined();
    expect(await sessions.use('A'.repeat(129))).toBeUndefined();
    expect(await sessions.use(id + 'A'.repeat(200))).toBeUndefined();
    expect(await sessions.destroy('A'.repeat(129))).toBeUndefined();
    expect(await sessions.use(id)).toBeDefined();
  });

  it('sessions: destroy returns the session once and ends it', async () => {
    const { sessions } = setup();
    const { id, session } = await sessions.create(alice, { persistent: false });
    expect(await sessions.destroy(id)).toEqual(session);
    expect(await sessions.use(id)).toBeUndefined();
    expect(await sessions.destroy(id)).toBeUndefined();
    expect(await sessions.destroy(undefined)).toBeUndefined();
  });

  it('sessions: the idle timeout ends a session left unused', async () => {
    const { sessions, clock } = setup();
    const { id } = await sessions.create(alice, { persistent: false });
    clock.t += HOUR - 1;
    expect(await sessions.use(id)).toBeDefined();
    clock.t += HOUR;
    expect(await sessions.use(id)).toBeUndefined();
  });

  it('sessions: use refreshes the idle timer, at most once a minute', async () => {
    const { sessions, clock, writtenKeys } = setup();
    const { id } = await sessions.create(alice, { persistent: false });
    clock.t += 30_000;
    expect((await sessions.use(id))?.lastSeenAt).toBe(clock.t - 30_000);
    expect(writtenKeys).toHaveLength(1);
    clock.t += 40 * 60_000;
    const touched = await sessions.use(id);
    expect(touched?.lastSeenAt).toBe(clock.t);
    expect(writtenKeys).toHaveLength(2);
    clock.t += 40 * 60_000; // 80 minutes after creation, 40 after the last use
    expect(await sessions.use(id)).toBeDefined();
  });

  it('sessions: the absolute lifetime ends a session even when it is used all the time', async () => {
    const { sessions, clock } = setup();
    const { id } = await sessions.create(alice, { persistent: false });
    for (let minutes = 30; minutes < 8 * 60; minutes += 30) {
      clock.t += 30 * 60_000;
      expect(await sessions.use(id), `after ${minutes} minutes`).toBeDefined();
    }
    clock.t += 30 * 60_000;
    expect(await sessions.use(id)).toBeUndefined();
  });

  it('sessions: a persistent session lives for the longer keep-me-signed-in lifetime', async () => {
    const { sessions, clock } = setup();
    const start = clock.t;
    const { id, session } = await sessions.create(alice, { persistent: true });
    expect(session.persistent).toBe(true);
    expect(session.expiresAt).toBe(start + 24 * HOUR);
    for (let hours = 0.5; hours < 24; hours += 0.5) {
      clock.t += HOUR / 2;
      expect(await sessions.use(id), `after ${hours} hours`).toBeDefined();
    }
    clock.t += HOUR / 2;
    expect(await sessions.use(id)).toBeUndefined();
  });

  it('sessions: keep me signed in survives a closed browser overnight (no idle timeout), until its lifetime', async () => {
    const { sessions, clock } = setup();
    const { id } = await sessions.create(alice, { persistent: true });
    clock.t += 20 * HOUR; // far past the one-hour idle timeout, unused
    expect(await sessions.use(id)).toBeDefined();
    clock.t += 4 * HOUR;
    expect(await sessions.use(id)).toBeUndefined();
  });

  it('sessions: addRelyingParty records each application once and keeps the session alive', async () => {
    const { sessions } = setup();
    const { id } = await sessions.create(alice, { persistent: false });
    await sessions.addRelyingParty(id, 'urn:federation:MicrosoftOnline');
    await sessions.addRelyingParty(id, 'https://app.example.com');
    await sessions.addRelyingParty(id, 'urn:federation:MicrosoftOnline');
    expect((await sessions.use(id))?.relyingParties).toEqual(['urn:federation:MicrosoftOnline', 'https://app.example.com']);
    expect((await sessions.destroy(id))?.relyingParties).toEqual(['urn:federation:MicrosoftOnline', 'https://app.example.com']);
  });

  it('sessions: addRelyingParty on an unknown session creates nothing', async () => {
    const { sessions, writtenKeys } = setup();
    await sessions.addRelyingParty('no-such-session', 'https://app.example.com');
    expect(writtenKeys).toHaveLength(0);
    expect(await sessions.use('no-such-session')).toBeUndefined();
  });

  it('sessions: a stored session is not changed by mutating what use returned', async () => {
    const { sessions } = setup();
    const { id } = await sessions.create(alice, { persistent: false });
    const used = await sessions.use(id);
    (used!.relyingParties as string[]).push('https://evil.example');
    expect((await sessions.use(id))?.relyingParties).toEqual([]);
  });
});
