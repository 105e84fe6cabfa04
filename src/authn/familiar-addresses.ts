import type { StateStore } from '../state/state-store.js';
import { clientNetwork } from './address-network.js';

/**
 * The addresses each account signed in from (AD FS's FamiliarIPs): a password attempt from them
 * is the user's own far more often than an attacker's, so smart lockout gives them their own
 * budget of failures. Compared by network (an IPv6 client picks any address of its /64).
 */
export interface FamiliarAddresses {
  /** Whether every presented address is familiar to the account (false when none is presented). */
  areFamiliar(account: string, addresses: readonly string[]): Promise<boolean>;
  /** The account signed in from these addresses: they become (or stay) familiar. */
  add(account: string, addresses: readonly string[]): Promise<void>;
}

/** AD FS keeps 20 per user, evicting the oldest: a roaming user does not grow the list forever. */
export const MAX_FAMILIAR_ADDRESSES = 20;

interface Familiar {
  readonly network: string;
  /** When the account last signed in from it (each address lives `lifetimeMs` from then). */
  readonly at: number;
}

const familiarKey = (account: string) => `rl:familiar:${account}`;

export function createFamiliarAddresses(store: StateStore, lifetimeMs: number, now: () => number): FamiliarAddresses {
  /** One value per account (not a key per address), so eviction of the oldest is one write. */
  const current = async (account: string) =>
    ((await store.get<Familiar[]>(familiarKey(account))) ?? []).filter((f) => f.at + lifetimeMs > now());
  return {
    async areFamiliar(account, addresses) {
      if (addresses.length === 0) return false;
      const known = new Set((await current(account)).map((f) => f.network));
      return addresses.every((address) => known.has(clientNetwork(address)));
    },
    async add(account, addresses) {
      if (addresses.length === 0) return;
      const at = now();
      const networks = new Set(addresses.map(clientNetwork));
      // Two sign-ins at once may each drop the other's address: it becomes familiar at the next one.
      const kept = (await current(account)).filter((f) => !networks.has(f.network));
      const list = [...kept, ...[...networks].map((network) => ({ network, at }))].slice(-MAX_FAMILIAR_ADDRESSES);
      await store.set(familiarKey(account), list, lifetimeMs);
    },
  };
}
