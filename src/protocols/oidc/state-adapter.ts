import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { StateStore } from '../../state/state-store.js';

/**
 * oidc-provider's persistence (sessions, interactions, codes, tokens, grants…) on fedgate's
 * StateStore, so OpenID Connect state is shared exactly as SSO sessions are: memory on one node,
 * Redis on many. Only the StateStore interface is used (no scans, no Redis specifics), so every
 * lookup is a key:
 *
 *   oidc:<model>:id:<id>               { payload, expiresAt }  the record
 *   oidc:<model>:uid:<uid>             id                      findByUid (sessions)
 *   oidc:<model>:userCode:<userCode>   id                      findByUserCode (device flow)
 *   oidc:Grant:members:<grantId>       GrantMember[]           revokeByGrantId, every model
 *   oidc:Grant:lock:<grantId>          token                   serialises writes of one grant
 *
 * Indexes carry their record's TTL; the member list lives as long as its longest-lived member.
 * Semantics follow oidc-provider's own lib/adapters/memory_adapter.js.
 */

/** A record as stored: the expiry is kept beside it because StateStore cannot report a TTL, and consume must keep it. */
interface Stored {
  readonly payload: AdapterPayload;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

interface GrantMember {
  readonly model: string;
  readonly id: string;
  readonly expiresAt: number;
}

export interface StateAdapterOptions {
  /** The clock the store expires by (tests inject one); TTLs left after consume are counted on it. */
  readonly now?: () => number;
}

/**
 * upsert without expiresIn means "no expiry" (oidc-provider does so for dynamically registered
 * clients), which StateStore has no word for: a century stands in.
 */
const NO_EXPIRY_MS = 100 * 365 * 86_400_000;
/** Held for a few store round-trips; a holder that died frees it after this. */
const LOCK_TTL_MS = 5_000;
/** Long enough to outlive a dead holder's lock, so a crash never blocks a grant for good. */
const LOCK_WAIT_MS = LOCK_TTL_MS + 1_000;

const recordKey = (model: string, id: string) => `oidc:${model}:id:${id}`;
const uidKey = (model: string, uid: string) => `oidc:${model}:uid:${uid}`;
const userCodeKey = (model: string, userCode: string) => `oidc:${model}:userCode:${userCode}`;
/**
 * The models revoked with their grant (oidc-provider's own memory adapter uses the same set).
 * Sessions and interactions carry a grantId too, but revoking a grant (a logout, another account
 * signing in) must not delete the interaction being resumed.
 */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);
const grantOf = (model: string, payload: AdapterPayload): string | undefined => (GRANTABLE.has(model) ? payload.grantId : undefined);

const membersKey = (grantId: string) => `oidc:Grant:members:${grantId}`;
const lockKey = (grantId: string) => `oidc:Grant:lock:${grantId}`;

/** The secondary index keys a payload is reachable by, besides its id. */
function indexKeys(model: string, payload: AdapterPayload): string[] {
  const keys: string[] = [];
  if (typeof payload.uid === 'string') keys.push(uidKey(model, payload.uid));
  if (typeof payload.userCode === 'string') keys.push(userCodeKey(model, payload.userCode));
  return keys;
}

export function createStateAdapterClass(store: StateStore, options: StateAdapterOptions = {}): new (model: string) => Adapter {
  const now = options.now ?? Date.now;

  /**
   * Runs fn alone among the writers of one grant. The member list is read-modify-write and
   * StateStore has no compare-and-set: two tokens of one grant saved at once (two tabs redeeming
   * codes, parallel refreshes) would otherwise drop one from the list, and revoking the grant
   * would miss it. setIfAbsent is the lock (SET NX PX on Redis).
   */
  async function withGrantLock<T>(grantId: string | undefined, fn: () => Promise<T>): Promise<T> {
    if (grantId === undefined) return fn();
    const key = lockKey(grantId);
    const token = randomUUID();
    const deadline = Date.now() + LOCK_WAIT_MS;
    while (!(await store.setIfAbsent(key, token, LOCK_TTL_MS))) {
      if (Date.now() > deadline) throw new Error(`oidc state: grant ${grantId} stayed locked for ${LOCK_WAIT_MS} ms`);
      // Jittered so that waiters do not retry in lock-step.
      await sleep(5 + Math.random() * 10);
    }
    try {
      return await fn();
    } finally {
      // Only our own lock: had it expired and been taken by another writer, deleting would free theirs.
      if ((await store.get<string>(key)) === token) await store.delete(key);
    }
  }

  /** Replaces one model/id in a grant's member list; called under that grant's lock. */
  async function updateMembers(grantId: string, model: string, id: string, added: GrantMember | undefined): Promise<void> {
    const key = membersKey(grantId);
    const t = now();
    const members = ((await store.get<GrantMember[]>(key)) ?? []).filter((m) => m.expiresAt > t && !(m.model === model && m.id === id));
    if (added) members.push(added);
    if (members.length === 0) {
      await store.delete(key);
      return;
    }
    await store.set(key, members, Math.max(...members.map((m) => m.expiresAt)) - t);
  }

  /** Deletes the indexes that still point at this id: a newer record may own the uid or user code by now. */
  async function dropIndexes(keys: readonly string[], id: string): Promise<void> {
    await Promise.all(
      keys.map(async (key) => {
        if ((await store.get<string>(key)) === id) await store.delete(key);
      }),
    );
  }

  return class StateAdapter implements Adapter {
    readonly #model: string;

    constructor(model: string) {
      this.#model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const model = this.#model;
      const ttlMs = typeof expiresIn === 'number' ? expiresIn * 1000 : NO_EXPIRY_MS;
      const expiresAt = now() + ttlMs;
      const previous = await store.get<Stored>(recordKey(model, id));
      const grantId = grantOf(model, payload);
      const oldGrant = previous ? grantOf(model, previous.payload) : undefined;
      if (oldGrant !== undefined && oldGrant !== grantId) {
        await withGrantLock(oldGrant, () => updateMembers(oldGrant, model, id, undefined));
      }
      // The record is written under the lock too: a revocation running meanwhile either sees the
      // token in the list or runs after it, never between the record and its list entry.
      await withGrantLock(grantId, async () => {
        const indexes = indexKeys(model, payload);
        if (previous) await dropIndexes(indexKeys(model, previous.payload).filter((key) => !indexes.includes(key)), id);
        await store.set<Stored>(recordKey(model, id), { payload, expiresAt }, ttlMs);
        await Promise.all(indexes.map((key) => store.set(key, id, ttlMs)));
        if (grantId !== undefined) await updateMembers(grantId, model, id, { model, id, expiresAt });
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return (await store.get<Stored>(recordKey(this.#model, id)))?.payload;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = await store.get<string>(uidKey(this.#model, uid));
      return id === undefined ? undefined : this.find(id);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const id = await store.get<string>(userCodeKey(this.#model, userCode));
      return id === undefined ? undefined : this.find(id);
    }

    /** Marks a code or token used (epoch seconds, as oidc-provider reads it), keeping its remaining TTL. */
    async consume(id: string): Promise<void> {
      const key = recordKey(this.#model, id);
      const first = await store.get<Stored>(key);
      if (!first) return;
      await withGrantLock(grantOf(this.#model, first.payload), async () => {
        // Read again under the lock: writing back a record revoked meanwhile would resurrect it.
        const stored = await store.get<Stored>(key);
        const remaining = stored ? stored.expiresAt - now() : 0;
        if (!stored || remaining <= 0) return;
        await store.set<Stored>(key, { payload: { ...stored.payload, consumed: Math.floor(now() / 1000) }, expiresAt: stored.expiresAt }, remaining);
      });
    }

    async destroy(id: string): Promise<void> {
      const model = this.#model;
      const stored = await store.get<Stored>(recordKey(model, id));
      if (!stored) return;
      const grantId = grantOf(this.#model, stored.payload);
      await withGrantLock(grantId, async () => {
        await store.delete(recordKey(model, id));
        await dropIndexes(indexKeys(model, stored.payload), id);
        if (grantId !== undefined) await updateMembers(grantId, model, id, undefined);
      });
    }

    /**
     * Deletes every record of the grant, whatever its model: one list serves all models, so a
     * call through any model's adapter revokes all (oidc-provider calls it once per model, and
     * skips models the client may no longer use, whose tokens must still go).
     */
    async revokeByGrantId(grantId: string): Promise<void> {
      await withGrantLock(grantId, async () => {
        const members = (await store.take<GrantMember[]>(membersKey(grantId))) ?? [];
        await Promise.all(
          members.map(async ({ model, id }) => {
            const stored = await store.take<Stored>(recordKey(model, id));
            if (stored) await dropIndexes(indexKeys(model, stored.payload), id);
          }),
        );
      });
    }
  };
}
