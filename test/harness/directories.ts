import { execFileSync } from 'node:child_process';
import { inject } from 'vitest';
import type { z } from 'zod';
import { configSchema, type LdapDirectoryConfig } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { startSlapd, stopSlapd, type SambaServer, type SlapdServer } from './servers.js';
import { TEST_NETBIOS } from './users.js';

/**
 * Directory configurations for tests, pointing at the servers the global setup started. Every
 * config goes through the real configuration schema, so defaults and validation are the
 * product's own.
 */
type DirectoryInput = z.input<typeof configSchema>['directory'];
export type LdapDirectoryInput = Omit<Extract<DirectoryInput, { type: 'ldap' }>, 'type'>;

export function parseLdapDirectoryConfig(input: LdapDirectoryInput): LdapDirectoryConfig {
  const parsed = configSchema.shape.directory.parse({ type: 'ldap', ...input });
  if (parsed.type !== 'ldap') throw new Error('unreachable: parsed an ldap directory as another type');
  return parsed;
}

function merge(base: LdapDirectoryInput, overrides: Partial<LdapDirectoryInput>): LdapDirectoryInput {
  return {
    ...base,
    ...overrides,
    tls: { ...base.tls, ...overrides.tls },
    groups: { ...base.groups, ...overrides.groups },
  };
}

/**
 * The run's slapd (or `server`, e.g. from startExtraSlapd): plain ldap://, the rootdn as service
 * account, users under ou=people, groups under ou=groups via memberOf (slapd's dynlist makes it
 * transitive; slapd lacks AD's in-chain rule). Stable: the HTTP tests use it.
 */
export function slapdDirectoryConfig(overrides: Partial<LdapDirectoryInput> = {}, server: SlapdServer = inject('slapd')): LdapDirectoryConfig {
  return parseLdapDirectoryConfig(merge({
    urls: [server.url],
    bindDn: server.adminDn,
    bindPassword: server.adminPassword,
    userBase: `ou=people,${server.base}`,
    netbiosDomain: TEST_NETBIOS,
    connectTimeout: '3s',
    operationTimeout: '5s',
    poolSize: 4,
    groups: { strategy: 'memberOf', base: `ou=groups,${server.base}` },
  }, overrides));
}

/** The run's Samba AD DC: ldap:// (strong auth off in the test DC), groups via in-chain. */
export function sambaDirectoryConfig(overrides: Partial<LdapDirectoryInput> = {}): LdapDirectoryConfig {
  const samba = sambaServer();
  return parseLdapDirectoryConfig(merge({
    urls: [samba.ldapUrl],
    bindDn: samba.bindDn,
    bindPassword: samba.bindPassword,
    userBase: samba.base,
    userObjectFilter: '(&(objectCategory=person)(objectClass=user))',
    netbiosDomain: TEST_NETBIOS,
    connectTimeout: '3s',
    operationTimeout: '10s',
    poolSize: 4,
    groups: { strategy: 'in-chain' },
  }, overrides));
}

/** The run's Samba AD server; throws when the global setup did not start it. */
export function sambaServer(): SambaServer {
  const samba = inject('samba');
  if (!samba) throw new Error('Samba AD was not started: the global setup starts it only for test files that mention "samba"');
  return samba;
}

export interface ExtraSlapd extends SlapdServer {
  stop(): Promise<void>;
}

/** Another seeded slapd on free ports (21450+/21700+ by default), e.g. for failover tests. */
export async function startExtraSlapd(ports: { port?: number; tlsPort?: number } = {}): Promise<ExtraSlapd> {
  const server = await startSlapd('slapd-extra', ports.port ?? 21450, ports.tlsPort ?? 21700);
  return { ...server, stop: () => stopSlapd(server) };
}

/** A logger for directories under test: silent unless FEDGATE_TEST_LOG is set to a level. */
export function testLogger(): Logger {
  return createLogger(process.env.FEDGATE_TEST_LOG ?? 'silent');
}

/** An attribute of a Samba account as ldapsearch prints it (`attr:: base64` for binary values). */
export function sambaLdapsearch(filter: string, attribute: string): string {
  const samba = sambaServer();
  const out = execFileSync('ldapsearch', ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', samba.ldapUrl, '-D', samba.bindDn, '-w', samba.bindPassword,
    '-b', samba.base, filter, attribute], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.toLowerCase().startsWith(`${attribute.toLowerCase()}:`));
  if (!line) throw new Error(`ldapsearch ${filter}: no ${attribute}`);
  return line.slice(line.indexOf(':') + 1).replace(/^:?\s*/, '');
}

/** An attribute as Samba's own ldb tools print it from sam.ldb (GUIDs and SIDs in string form). */
export function sambaLdbsearch(filter: string, attribute: string): string {
  const samba = sambaServer();
  const out = execFileSync('ldbsearch', ['-H', `${samba.dir}/private/sam.ldb`, filter, attribute], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.toLowerCase().startsWith(`${attribute.toLowerCase()}: `));
  if (!line) throw new Error(`ldbsearch ${filter}: no ${attribute}`);
  return line.slice(attribute.length + 2).trim();
}
