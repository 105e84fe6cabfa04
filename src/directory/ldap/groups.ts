import { AndFilter, EqualityFilter, ExtensibleFilter, FilterParser, NoSuchObjectError, OrFilter, type Entry, type Filter, type SearchOptions } from 'ldapts';
import type { LdapDirectoryConfig } from '../../config/schema.js';
import { EntryReader } from './attributes.js';

/**
 * A user's groups, nested memberships included, by the configured strategy:
 * - in-chain: one search with AD's LDAP_MATCHING_RULE_IN_CHAIN (1.2.840.113556.1.4.1941).
 *   OpenLDAP does not implement the rule and silently matches nothing.
 * - memberOf: the user's memberOf values, then each group's memberOf, level by level (AD and
 *   slapo-memberof store direct memberships only; slapd's dynlist already answers transitively).
 * - search: groups whose member is the user, then groups whose member is one of those, ...
 * - none.
 */
export type Search = (base: string, options: SearchOptions) => Promise<Entry[]>;

export interface UserGroups {
  readonly names: string[];
  readonly dns: string[];
}

export const IN_CHAIN_RULE = '1.2.840.113556.1.4.1941';
/** Members per search in the level-by-level strategy, to keep filters a sane size. */
const MEMBERS_PER_SEARCH = 50;

type GroupsConfig = LdapDirectoryConfig['groups'];

/**
 * Groups read by the memberOf strategy (name and parent groups), remembered for config.cacheTime.
 * Concurrent sign-ins of members of one group share one read; a failed read or a group not found is not remembered.
 */
export interface GroupCache {
  read(dn: string, load: () => Promise<Entry | undefined>): Promise<Entry | undefined>;
}

/** Groups remembered at most: a directory with more groups than this simply reads the others again. */
const MAX_CACHED_GROUPS = 20_000;

export function createGroupCache(ttlMs: number, now: () => number = Date.now): GroupCache {
  const groups = new Map<string, { readonly until: number; readonly entry: Promise<Entry | undefined> }>();
  return {
    read(dn, load) {
      if (ttlMs <= 0) return load();
      const key = dn.toLowerCase();
      const cached = groups.get(key);
      if (cached && cached.until > now()) return cached.entry;
      groups.delete(key);
      // Map order is insertion order: the first key is the oldest.
      if (groups.size >= MAX_CACHED_GROUPS) groups.delete(groups.keys().next().value!);
      const entry = load();
      groups.set(key, { until: now() + ttlMs, entry });
      // A failed read, or a group not found (a new group not yet replicated to this server), is not remembered.
      const forget = () => { if (groups.get(key)?.entry === entry) groups.delete(key); };
      entry.then((found) => { if (!found) forget(); }, forget);
      return entry;
    },
  };
}

const NO_CACHE: GroupCache = { read: (_dn, load) => load() };

export async function resolveGroups(search: Search, userDn: string, memberOf: readonly string[],
  config: GroupsConfig, userBase: string, cache: GroupCache = NO_CACHE): Promise<UserGroups> {
  const base = config.base ?? userBase;
  switch (config.strategy) {
    case 'none':
      return { names: [], dns: [] };
    case 'in-chain':
      return collect(await searchGroups(search, base, config,
        new ExtensibleFilter({ matchType: 'member', rule: IN_CHAIN_RULE, value: userDn })), config);
    case 'memberOf':
      return followMemberOf(search, memberOf, config, cache);
    case 'search':
      return searchLevels(search, base, userDn, config);
  }
}

async function searchGroups(search: Search, base: string, config: GroupsConfig, match: Filter): Promise<Entry[]> {
  return search(base, {
    scope: 'sub',
    filter: new AndFilter({ filters: [FilterParser.parseString(config.filter), match] }),
    attributes: [config.nameAttribute],
    paged: { pageSize: 500 },
  });
}

function collect(entries: readonly Entry[], config: GroupsConfig): UserGroups {
  const groups = new Map<string, { name: string; dn: string }>();
  for (const entry of entries) {
    const reader = new EntryReader(entry);
    groups.set(entry.dn.toLowerCase(), { dn: entry.dn, name: reader.string(config.nameAttribute) ?? entry.dn });
  }
  const sorted = [...groups.values()].sort((a, b) => a.name.localeCompare(b.name));
  return { names: sorted.map((g) => g.name), dns: sorted.map((g) => g.dn) };
}

async function followMemberOf(search: Search, memberOf: readonly string[], config: GroupsConfig, cache: GroupCache): Promise<UserGroups> {
  const seen = new Set<string>();
  const found: Entry[] = [];
  let level = memberOf.filter((dn) => !seen.has(dn.toLowerCase()));
  for (let depth = 0; depth < config.maxDepth && level.length > 0; depth++) {
    level.forEach((dn) => seen.add(dn.toLowerCase()));
    const entries = await Promise.all(level.map((dn) => cache.read(dn, () => readGroup(search, dn, config))));
    const next: string[] = [];
    for (const entry of entries) {
      if (!entry) continue;
      found.push(entry);
      for (const parent of new EntryReader(entry).strings('memberOf')) {
        if (!seen.has(parent.toLowerCase())) next.push(parent);
      }
    }
    level = [...new Set(next)];
  }
  return collect(found, config);
}

async function readGroup(search: Search, dn: string, config: GroupsConfig): Promise<Entry | undefined> {
  try {
    const [entry] = await search(dn, { scope: 'base', attributes: [config.nameAttribute, 'memberOf'] });
    return entry;
  } catch (err) {
    // A memberOf value naming a deleted or unreadable group is not the user's problem.
    if (err instanceof NoSuchObjectError) return undefined;
    throw err;
  }
}

async function searchLevels(search: Search, base: string, userDn: string, config: GroupsConfig): Promise<UserGroups> {
  const seen = new Set<string>([userDn.toLowerCase()]);
  const found: Entry[] = [];
  let level = [userDn];
  for (let depth = 0; depth < config.maxDepth && level.length > 0; depth++) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += MEMBERS_PER_SEARCH) {
      const members = level.slice(i, i + MEMBERS_PER_SEARCH);
      const match = new OrFilter({
        filters: members.flatMap((dn) => [
          new EqualityFilter({ attribute: 'member', value: dn }),
          new EqualityFilter({ attribute: 'uniqueMember', value: dn }),
        ]),
      });
      for (const entry of await searchGroups(search, base, config, match)) {
        if (seen.has(entry.dn.toLowerCase())) continue;
        seen.add(entry.dn.toLowerCase());
        found.push(entry);
        next.push(entry.dn);
      }
    }
    level = next;
  }
  return collect(found, config);
}
