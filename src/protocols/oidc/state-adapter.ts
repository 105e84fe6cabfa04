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
 *   oidc:<model>:id:<id>               { payload, expiresAt, epoch? }  the record
 *   oidc:<model>:uid:<uid>             id                              findByUid (sessions)
 *   oidc:<model>:userCode:<userCode>   id                              findByUserCode (device flow)
 *   oidc:Grant:epoch:<grantId>         { id, expiresAt }               the grant's current epoch
 *   oidc:Grant:lock:<grantId>          token                           serialises epoch changes
 *   oidc:Grant:members:<grantId>       GrantMember[]                   written by earlier versions only
 *
 * Revoking a grant (revokeByGrantId) must reach every token of it without a scan. Each token of a
 * grant is stamped with the grant's epoch when saved; revoking the grant gives it a new epoch, and
 * a token whose epoch is not the grant's current one is not found (it stays in the store until its
 * own TTL). The epoch outlives every token stamped with it, so it never expires under a live token.
 * A save is thus one read of a small key and the record, however many tokens the grant has
 * (a member list written under a lock on every save cost five store calls and grew with each token).
 * Indexes carry their record's TTL. Semantics follow oidc-provider's own lib/adapters/memory_adapter.js.
 */

/** A record as stored: the expiry is kept beside it because StateStore cannot report a TTL, and consume must keep it. */
interface Stored {
  readonly payload: AdapterPayload;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** The grant's epoch when saved, for a token of a grant. */
  readonly epoch?: string;
}

interface Epoch {
  readonly id: string;
  /** Epoch milliseconds; never before the expiry of a token stamped with it. */
  readonly expiresAt: number;
}

/** An entry of the member list an earlier version kept per grant: still revoked (tokens saved before an upgrade). */
interface GrantMember {
  readonly model: string;
  readonly id: string;
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
/**
 * oidc-provider saves its session at the end of every request that read it, only to slide its
 * expiry (exp, and the TTL): a write per authorization. While nothing else changed, the stored one
 * stands if its expiry is within this much (or 1% of the TTL, if less) of the new one.
 */
const SESSION_RESAVE_SLACK_MS = 60_000;
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

const epochKey = (grantId: string) => `oidc:Grant:epoch:${grantId}`;
const membersKey = (grantId: string) => `oidc:Grant:members:${grantId}`;
const lockKey = (grantId: string) => `oidc:Grant:lock:${grantId}`;

/** The secondary index keys a payload is reachable by, besides its id. */
function indexKeys(model: string, payload: AdapterPayload): string[] {
  const keys: string[] = [];
  if (typeof payload.uid === 'string') keys.push(uidKey(model, payload.uid));
  if (typeof payload.userCode === 'string') keys.push(userCodeKey(model, payload.userCode));
  return keys;
}

/** Equal as JSON (undefined members are absent), whatever the key order. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const defined = (o: object) => Object.entries(o).filter(([, v]) => v !== undefined);
  const entries = defined(a);
  return entries.length === defined(b).length && entries.every(([k, v]) => sameJson(v, (b as Record<string, unknown>)[k]));
}

export function createStateAdapterClass(store: StateStore, options: StateAdapterOptions = {}): new (model: string) => Adapter {
  const now = options.now ?? Date.now;

  /**
   * Runs fn alone among the changers of one grant's epoch. StateStore has no compare-and-set: a
   * save lengthening the epoch while a revocation replaces it could otherwise write the old epoch
   * back and revive the revoked tokens. setIfAbsent is the lock (SET NX PX on Redis).
   */
  async function withGrantLock<T>(grantId: string, fn: () => Promise<T>): Promise<T> {
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

  /**
   * The epoch to stamp a token of the grant expiring at `expiresAt` with: the current one, read
   * without a lock. Only when there is none, or it would expire first, is it made or lengthened
   * under the lock: to twice the token's lifetime ahead, so about once per token lifetime.
   * A revocation between the read and the token's write leaves the token revoked: never the reverse.
   */
  async function epochFor(grantId: string, expiresAt: number): Promise<string> {
    const current = await store.get<Epoch>(epochKey(grantId));
    if (current && current.expiresAt >= expiresAt) return current.id;
    return withGrantLock(grantId, async () => {
      const latest = await store.get<Epoch>(epochKey(grantId));
      if (latest && latest.expiresAt >= expiresAt) return latest.id;
      const t = now();
      const until = expiresAt + Math.max(0, expiresAt - t);
      const epoch: Epoch = { id: latest?.id ?? randomUUID(), expiresAt: until };
      await store.set<Epoch>(epochKey(grantId), epoch, until - t);
      return epoch.id;
    });
  }

  /** A token of a revoked grant: its epoch is no longer the grant's. */
  async function revoked(model: string, stored: Stored): Promise<boolean> {
    const grantId = grantOf(model, stored.payload);
    // Saved by an earlier version (no epoch): its grant's member list revokes it.
    if (grantId === undefined || stored.epoch === undefined) return false;
    return (await store.get<Epoch>(epochKey(grantId)))?.id !== stored.epoch;
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
      // Only a later expiry may be skipped: a shorter one (a configuration change) is written.
      const extension = previous ? expiresAt - previous.expiresAt : -1;
      if (model === 'Session' && previous && extension >= 0 && extension < Math.min(SESSION_RESAVE_SLACK_MS, ttlMs / 100)
        && sameJson({ ...payload, exp: previous.payload.exp }, previous.payload)) return;
      const grantId = grantOf(model, payload);
      const epoch = grantId === undefined ? undefined : await epochFor(grantId, expiresAt);
      const indexes = indexKeys(model, payload);
      if (previous) await dropIndexes(indexKeys(model, previous.payload).filter((key) => !indexes.includes(key)), id);
      await store.set<Stored>(recordKey(model, id), epoch === undefined ? { payload, expiresAt } : { payload, expiresAt, epoch }, ttlMs);
      await Promise.all(indexes.map((key) => store.set(key, id, ttlMs)));
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const stored = await store.get<Stored>(recordKey(this.#model, id));
      return stored && !(await revoked(this.#model, stored)) ? stored.payload : undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = await store.get<string>(uidKey(this.#model, uid));
      return id === undefined ? undefined : this.find(id);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const id = await store.get<string>(userCodeKey(this.#model, userCode));
      return id === undefined ? undefined : this.find(id);
    }

    /**
     * Marks a code or token used (epoch seconds, as oidc-provider reads it), keeping its remaining
     * TTL and its epoch: one revoked meanwhile is written back with its old epoch, so stays revoked.
     */
    async consume(id: string): Promise<void> {
      const key = recordKey(this.#model, id);
      const stored = await store.get<Stored>(key);
      const remaining = stored ? stored.expiresAt - now() : 0;
      if (!stored || remaining <= 0) return;
      await store.set<Stored>(key, { ...stored, payload: { ...stored.payload, consumed: Math.floor(now() / 1000) } }, remaining);
    }

    async destroy(id: string): Promise<void> {
      const model = this.#model;
      const stored = await store.take<Stored>(recordKey(model, id));
      if (stored) await dropIndexes(indexKeys(model, stored.payload), id);
    }

    /**
     * Revokes every token of the grant, whatever its model: the epoch is the grant's, so a call
     * through any model's adapter revokes all (oidc-provider calls it once per model, and skips
     * models the client may no longer use, whose tokens must still go).
     */
    async revokeByGrantId(grantId: string): Promise<void> {
      await withGrantLock(grantId, async () => {
        const current = await store.get<Epoch>(epochKey(grantId));
        const remaining = current ? current.expiresAt - now() : 0;
        if (current && remaining > 0) await store.set<Epoch>(epochKey(grantId), { id: randomUUID(), expiresAt: current.expiresAt }, remaining);
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
