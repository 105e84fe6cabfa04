import { createHash, randomBytes } from 'node:crypto';
import type { Principal } from '../core/principal.js';
import type { StateStore } from '../state/state-store.js';

/**
 * The SSO session. The cookie carries a random 256-bit id; the store keys the session by the id's
 * SHA-256, so a leaked store (a Redis dump) does not hand out live cookies. Everything the claims
 * need is in `principal`, so single sign-on never touches the directory.
 */
export interface SsoSession {
  readonly principal: Principal;
  readonly createdAt: number;
  /** Absolute end of the session (lifetime, or the keep-me-signed-in lifetime). */
  readonly expiresAt: number;
  readonly lastSeenAt: number;
  readonly persistent: boolean;
  /** Per-session token for sign-out and other session-bound forms. */
  readonly csrfToken: string;
  /** Relying parties that received a token in this session (for sign-out). */
  readonly relyingParties: readonly string[];
  /**
   * The sign-on this session continues: random, kept when the same person signs in again in the
   * same browser (ForceAuthn, wfresh=0, prompt=login), so what applications were told (SAML
   * SessionIndex and NameIDs, OIDC sids) stays reachable for their sign-out. Not the cookie value.
   */
  readonly ssoId: string;
}

export interface SessionSettings {
  readonly lifetimeMs: number;
  readonly idleTimeoutMs: number;
  readonly persistentLifetimeMs: number;
}

export interface Sessions {
  /**
   * A new session (always a new id); `continues` is the same person's previous session, whose
   * sign-on it carries on; `relyingParty` is the application signed in to, on its list from the start.
   */
  create(principal: Principal, options: { persistent: boolean; continues?: SsoSession | undefined; relyingParty?: string }): Promise<{ id: string; session: SsoSession }>;
  /** The session if it exists and has neither expired nor idled out; refreshes the idle timer. */
  use(id: string | undefined): Promise<SsoSession | undefined>;
  addRelyingParty(id: string, relyingParty: string): Promise<void>;
  destroy(id: string | undefined): Promise<SsoSession | undefined>;
}

/** Idle refreshes are written at most this often, so SSO bursts cost no store write each. */
const TOUCH_INTERVAL_MS = 60_000;

/** A stable reference to a session that is not the cookie value (stored, compared, logged). */
export function sessionRef(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

const withRelyingParty = (list: readonly string[], relyingParty: string | undefined) =>
  relyingParty === undefined || list.includes(relyingParty) ? [...list] : [...list, relyingParty];

export function createSessions(store: StateStore, settings: SessionSettings, now: () => number = Date.now): Sessions {
  const key = (id: string) => `session:${sessionRef(id)}`;
  const valid = (id: string | undefined): id is string => typeof id === 'string' && id.length > 0 && id.length <= 128;
  // "Keep me signed in" survives a closed browser overnight (AD FS KMSI): only its lifetime ends it.
  const idleEnd = (s: SsoSession) => (s.persistent ? s.expiresAt : s.lastSeenAt + settings.idleTimeoutMs);
  const ttl = (s: SsoSession, t: number) => Math.max(1, Math.min(s.expiresAt, idleEnd(s)) - t);

  return {
    async create(principal, { persistent, continues, relyingParty }) {
      const t = now();
      const id = randomBytes(32).toString('base64url');
      const session: SsoSession = {
        principal,
        createdAt: t,
        expiresAt: t + (persistent ? settings.persistentLifetimeMs : settings.lifetimeMs),
        lastSeenAt: t,
        persistent,
        csrfToken: randomBytes(24).toString('base64url'),
        relyingParties: withRelyingParty(continues?.relyingParties ?? [], relyingParty),
        ssoId: continues?.ssoId ?? randomBytes(24).toString('base64url'),
      };
      await store.set(key(id), session, ttl(session, t));
      return { id, session };
    },

    async use(id) {
      if (!valid(id)) return undefined;
      const session = await store.get<SsoSession>(key(id));
      const t = now();
      if (!session || session.expiresAt <= t || idleEnd(session) <= t) return undefined;
      if (t - session.lastSeenAt >= TOUCH_INTERVAL_MS) {
        const touched = { ...session, lastSeenAt: t };
        await store.set(key(id), touched, ttl(touched, t));
        return touched;
      }
      return session;
    },

    async addRelyingParty(id, relyingParty) {
      if (!valid(id)) return;
      const session = await store.get<SsoSession>(key(id));
      if (!session || session.relyingParties.includes(relyingParty)) return;
      const t = now();
      const updated = { ...session, relyingParties: withRelyingParty(session.relyingParties, relyingParty) };
      await store.set(key(id), updated, ttl(updated, t));
    },

    async destroy(id) {
      if (!valid(id)) return undefined;
      return store.take<SsoSession>(key(id));
    },
  };
}
