import { createHash } from 'node:crypto';
import type { Account, FindAccount } from 'oidc-provider';
import type { OidcConfig } from '../../config/schema.js';
import type { DirectoryUser, Principal } from '../../core/principal.js';
import { principalClaims } from '../../claims/principal-claims.js';
import type { StateStore } from '../../state/state-store.js';

/**
 * Accounts as oidc-provider sees them. The account id is stable and not personal data: the
 * objectGUID, else a hash of the DN. The principal (what the claims need) is cached in the state
 * store under the account id when someone signs in, so token, userinfo and refresh requests
 * never touch the directory.
 */
export function accountIdOf(user: DirectoryUser): string {
  return user.objectGuid?.toLowerCase() ?? `dn-${createHash('sha256').update(user.dn.toLowerCase()).digest('base64url')}`;
}

/** fedgate claim names whose OpenID Connect name differs (OpenID Connect Core §5.1). */
const OIDC_NAMES: Readonly<Record<string, string>> = { givenname: 'given_name', surname: 'family_name' };
/** Claims that are lists even with one value. */
const MULTI_VALUED = new Set(['groups']);

/** Scope -> the OpenID Connect claim names it releases, and each name's fedgate claim. */
export interface ScopeClaims {
  readonly byScope: Readonly<Record<string, readonly string[]>>;
  readonly source: ReadonlyMap<string, string>;
}

export function scopeClaims(config: OidcConfig): ScopeClaims {
  const source = new Map<string, string>();
  const byScope = Object.fromEntries(Object.entries(config.claims).map(([scope, rules]) => [scope, rules.map((rule) => {
    const name = rule.as ?? OIDC_NAMES[rule.claim] ?? rule.claim;
    source.set(name, rule.claim);
    return name;
  })]));
  return { byScope, source };
}

export interface AccountCache {
  /** Caches the principal under its account id; returns the id. */
  remember(principal: Principal): Promise<string>;
  principal(accountId: string): Promise<Principal | undefined>;
  findAccount: FindAccount;
}

const accountKey = (accountId: string) => `oidc:account:${accountId}`;

/**
 * `ttlMs` should outlive what is issued from a sign-in: the longer of the SSO session and a
 * refresh token. An account whose cache has expired is unknown: its refresh tokens stop working.
 */
export function createAccountCache(store: StateStore, claims: ScopeClaims, ttlMs: number, netbiosDomain?: string): AccountCache {
  const accountOf = (accountId: string, principal: Principal): Account => ({
    accountId,
    claims: () => {
      const values = new Map(principalClaims(principal, netbiosDomain).map((c) => [c.name, c.values]));
      const released: Record<string, unknown> = { sub: accountId };
      for (const [name, claim] of claims.source) {
        const v = values.get(claim);
        if (v && v.length > 0) released[name] = MULTI_VALUED.has(claim) || v.length > 1 ? [...v] : v[0];
      }
      return released as { sub: string };
    },
  });
  return {
    async remember(principal) {
      const accountId = accountIdOf(principal.user);
      await store.set(accountKey(accountId), principal, ttlMs);
      return accountId;
    },
    principal: (accountId) => store.get<Principal>(accountKey(accountId)),
    async findAccount(_ctx, sub) {
      const principal = await store.get<Principal>(accountKey(sub));
      return principal ? accountOf(sub, principal) : undefined;
    },
  };
}
