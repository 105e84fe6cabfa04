/**
 * Sign-ins per second through fedgate's LDAP directory (search, pooled bind, state read, groups)
 * against a throwaway seeded slapd on 127.0.0.1. Prints one JSON line.
 *
 *   npx tsx bench/ldap-bind.ts [--seconds 5] [--concurrency 16] [--pool 8] [--tls none|starttls|ldaps] [--bad]
 */
import { parseArgs } from 'node:util';
import { createLdapDirectory } from '../src/directory/ldap/ldap-directory.js';
import { createLogger } from '../src/observability/logger.js';
import { parseLdapDirectoryConfig } from '../test/harness/directories.js';
import { startSlapd, stopSlapd } from '../test/harness/servers.js';
import { USERS } from '../test/harness/users.js';

const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '16' },
    pool: { type: 'string', default: '8' },
    tls: { type: 'string', default: 'none' },
    bad: { type: 'boolean', default: false },
  },
});
const seconds = Number(a.seconds);
const tls = a.tls as 'none' | 'starttls' | 'ldaps';

const slapd = await startSlapd('slapd-bench', 21430, 21680);
try {
  const directory = createLdapDirectory(parseLdapDirectoryConfig({
    urls: [tls === 'ldaps' ? slapd.ldapsUrl : slapd.url],
    bindDn: slapd.adminDn,
    bindPassword: slapd.adminPassword,
    userBase: `ou=people,${slapd.base}`,
    poolSize: Number(a.pool),
    tls: { ca: slapd.caFile, startTls: tls === 'starttls' },
    groups: { strategy: 'memberOf', base: `ou=groups,${slapd.base}` },
  }), createLogger('error'));
  const users = [USERS.alice, USERS.bob];
  const latencies: number[] = [];
  const outcomes = new Map<string, number>();
  const worker = async (deadline: number, record: boolean) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const user = users[i % users.length]!;
      const started = process.hrtime.bigint();
      const { outcome } = await directory.authenticate(user.upn, a.bad ? 'Wrong!Passw0rd' : user.password);
      if (!record) continue;
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  };
  const concurrency = Number(a.concurrency);
  // Warm-up: fills the pool, so the figure is about steady state.
  await Promise.all(Array.from({ length: concurrency }, () => worker(Date.now() + 500, false)));
  const t0 = Date.now();
  await Promise.all(Array.from({ length: concurrency }, () => worker(t0 + seconds * 1000, true)));
  const elapsed = (Date.now() - t0) / 1000;
  latencies.sort((x, y) => x - y);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(2);
  console.log(JSON.stringify({
    target: `slapd ${tls}`, concurrency, poolSize: Number(a.pool), seconds: elapsed,
    signInsPerSecond: Math.round(latencies.length / elapsed), p50Ms: q(0.5), p99Ms: q(0.99),
    outcomes: Object.fromEntries(outcomes), tcpConnectionsOpened: directory.connectionsOpened(),
  }));
  await directory.close();
} finally {
  await stopSlapd(slapd);
}
