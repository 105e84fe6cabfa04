import { readFileSync } from 'node:fs';
import { InvalidCredentialsError, ResultCodeError, type Client, type Entry, type SearchOptions } from 'ldapts';
import type { LdapDirectoryConfig } from '../../config/schema.js';
import { DirectoryUnavailableError, IdpError } from '../../core/errors.js';
import type { DirectoryUser } from '../../core/principal.js';
import type { Logger } from '../../observability/logger.js';
import type { AuthFailure, AuthOutcome, Directory } from '../directory.js';
import { accountStateFailure, STATE_ATTRIBUTES, type AccountStateAttributes } from './account-state.js';
import { outcomeOfRefusedBind } from './ad-bind-result.js';
import { EntryReader, toDirectoryUser, userAttributeRequest } from './attributes.js';
import { tlsOptionsFor } from './connection.js';
import { describeError, isServerFailure } from './failures.js';
import { createGroupCache, resolveGroups } from './groups.js';
import { buildLoginFilter } from './login-filter.js';
import { ServerPool, type Server, type ServerObserver } from './server-pool.js';

/**
 * The LDAP / Active Directory directory: search-then-bind. The service account finds the entry
 * the login names; the password is then checked by a simple bind as that entry on a pooled
 * connection. AD explains refused binds with sub-codes; OpenLDAP does not, so the AD account
 * attributes, read with the entry, are judged after a successful bind the same way (account-state.ts).
 * A sign-in is two round trips (search, bind), plus group reads the group cache has not answered.
 */
export interface LdapDirectory extends Directory {
  /** TCP connections opened since start (pool reuse is observable in tests). */
  connectionsOpened(): number;
  /** Servers currently skipped after a failure. */
  deadServers(): string[];
  /** Each attempt on each server, for per-server metrics. */
  observeServers(observer: ServerObserver): void;
}

interface FoundUser {
  readonly reader: EntryReader;
  readonly memberOf: string[];
}

export function createLdapDirectory(config: LdapDirectoryConfig, log: Logger): LdapDirectory {
  const ca = readCaFiles(config.tls.ca);
  let connects = 0;
  let closed = false;
  if (config.urls.some((u) => u.startsWith('ldap:')) && !config.tls.startTls) {
    log.warn({ urls: config.urls }, 'directory passwords travel unencrypted: use ldaps:// or tls.startTls');
  }
  if (!config.tls.rejectUnauthorized) {
    log.warn('directory.tls.rejectUnauthorized is false: any server can pose as the directory and read passwords; set tls.ca instead');
  }
  const servers = new ServerPool({
    urls: config.urls,
    bindDn: config.bindDn,
    bindPassword: config.bindPassword,
    poolSize: config.poolSize,
    deadServerRetry: config.deadServerRetry,
    log,
    settings: (url) => ({
      url,
      tls: tlsOptionsFor(url, { ca, rejectUnauthorized: config.tls.rejectUnauthorized }),
      startTls: config.tls.startTls,
      connectTimeout: config.connectTimeout,
      operationTimeout: config.operationTimeout,
      onConnect: () => void connects++,
    }),
  });

  const wantsMemberOf = config.groups.strategy === 'memberOf';
  // The account state comes with the user's entry: a sign-in is then one search and one bind.
  const request = userAttributeRequest(config.sourceAnchor, [...STATE_ATTRIBUTES, ...(wantsMemberOf ? ['memberOf'] : [])]);

  const search = (server: Server) => (base: string, options: SearchOptions): Promise<Entry[]> =>
    // Continuation references (Samba answers them from the domain root) are ignored, never chased.
    server.service.use((client: Client) => client.search(base, options)).then((r) => r.searchEntries);

  const findEntry = async (server: Server, login: string): Promise<FoundUser | undefined> => {
    const filter = buildLoginFilter(login, config);
    if (!filter) return undefined;
    const entries = await search(server)(config.userBase, {
      scope: 'sub', filter, sizeLimit: 2, attributes: request.attributes, explicitBufferAttributes: request.explicitBufferAttributes,
    });
    if (entries.length > 1) {
      log.warn({ login, dns: entries.map((e) => e.dn) }, 'login matches several directory entries; refusing it');
      return undefined;
    }
    const entry = entries[0];
    if (!entry) return undefined;
    const reader = new EntryReader(entry);
    return { reader, memberOf: reader.strings('memberOf') };
  };

  // One cache for all servers: they replicate one directory.
  const groupCache = createGroupCache(config.groups.cacheTime);
  const groupsOf = (server: Server, found: FoundUser) =>
    resolveGroups(search(server), found.reader.dn, found.memberOf, config.groups, config.userBase, groupCache);

  const stateOf = (reader: EntryReader): AccountStateAttributes =>
    Object.fromEntries(STATE_ATTRIBUTES.map((a) => [a, reader.string(a)]).filter(([, v]) => v !== undefined));

  /**
   * A base read of the state: AD constructs msDS-User-Account-Control-Computed (lockout, password
   * expired) for base-scope searches only. After a password bind the login search's copy is enough,
   * since AD refuses the bind of a locked or expired account itself; a Kerberos sign-in has no bind.
   */
  const readState = async (server: Server, dn: string): Promise<AccountStateAttributes> => {
    const [entry] = await search(server)(dn, { scope: 'base', attributes: [...STATE_ATTRIBUTES] });
    return stateOf(new EntryReader(entry ?? { dn }));
  };

  /** The user's password bind; a refused bind is an outcome, any other refusal a fault. */
  const bindAsUser = async (server: Server, dn: string, password: string): Promise<{ outcome: AuthFailure } | undefined> => {
    try {
      await server.binds.use((client) => client.bind(dn, password));
      return undefined;
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return { outcome: outcomeOfRefusedBind(err.message) };
      if (err instanceof ResultCodeError) {
        throw new DirectoryUnavailableError(`${server.url} refused the bind of ${dn}: ${describeError(err)}`, { cause: err });
      }
      throw err;
    }
  };

  /**
   * For an unknown login: the same round trip as a wrong password, so response times do not tell
   * who exists. Whatever the server answers is ignored; only a connection fault counts (failover).
   */
  const bindAsNobody = async (server: Server, password: string): Promise<void> => {
    try {
      await server.binds.use((client) => client.bind(`cn=fedgate-no-such-user,${config.userBase}`, password));
    } catch (err) {
      if (isServerFailure(err)) throw err;
    }
  };

  const answer = async <T>(what: string, attempt: (server: Server) => Promise<T>): Promise<T> => {
    if (closed) throw new DirectoryUnavailableError(`${what}: the directory was closed`);
    try {
      return await servers.run(what, attempt);
    } catch (err) {
      if (err instanceof IdpError) throw err;
      // An answer no server would change (bad base DN, bad filter in the configuration, ...).
      throw new DirectoryUnavailableError(`${what}: ${describeError(err)}`, { cause: err });
    }
  };

  return {
    async authenticate(login, password): Promise<AuthOutcome> {
      // An empty password would be an unauthenticated bind, which LDAP answers with success.
      if (password.length === 0) return { outcome: 'invalid-credentials' };
      const outcome = await answer('sign-in', async (server): Promise<AuthOutcome> => {
        const found = await findEntry(server, login);
        if (!found) {
          await bindAsNobody(server, password);
          return { outcome: 'invalid-credentials' };
        }
        const account = found.reader.dn.toLowerCase();
        const refused = await bindAsUser(server, found.reader.dn, password);
        if (refused) return { outcome: refused.outcome, account };
        const failure = accountStateFailure(stateOf(found.reader));
        if (failure) return { outcome: failure, account };
        const groups = await groupsOf(server, found);
        return { outcome: 'success', user: toDirectoryUser(found.reader, config.sourceAnchor, groups) };
      });
      log.debug({ login, outcome: outcome.outcome }, 'directory sign-in');
      return outcome;
    },

    async findUser(login): Promise<DirectoryUser | undefined> {
      return answer('user lookup', async (server) => {
        const found = await findEntry(server, login);
        if (!found) return undefined;
        return toDirectoryUser(found.reader, config.sourceAnchor, await groupsOf(server, found));
      });
    },

    async checkAccount(login): Promise<AuthOutcome> {
      return answer('account check', async (server): Promise<AuthOutcome> => {
        const found = await findEntry(server, login);
        if (!found) return { outcome: 'invalid-credentials' };
        const account = found.reader.dn.toLowerCase();
        const failure = accountStateFailure(await readState(server, found.reader.dn));
        if (failure) return { outcome: failure, account };
        return { outcome: 'success', user: toDirectoryUser(found.reader, config.sourceAnchor, await groupsOf(server, found)) };
      });
    },

    async checkHealth(): Promise<void> {
      await answer('health check', (server) => server.binds.use((client) => client.bind(config.bindDn, config.bindPassword)));
    },

    describe(): string {
      const first = new URL(config.urls[0]!);
      const shown = `${first.protocol}//${first.host}`;
      return `ldap ${shown}${config.urls.length > 1 ? ` (${config.urls.length} servers)` : ''}`;
    },

    async close(): Promise<void> {
      closed = true;
      servers.close();
    },

    connectionsOpened: () => connects,
    deadServers: () => servers.deadServers(),
    observeServers: (observer) => servers.observe(observer),
  };
}

function readCaFiles(ca: string | string[] | undefined): Buffer[] | undefined {
  if (ca === undefined) return undefined;
  return (Array.isArray(ca) ? ca : [ca]).map((path) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new IdpError('configuration', 'The directory CA file cannot be read.', `directory.tls.ca ${path}: ${describeError(err)}`);
    }
  });
}

