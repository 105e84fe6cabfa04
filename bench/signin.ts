/**
 * Sign-in throughput through the real app over loopback HTTP, against a real slapd:
 *   - password sign-ins (the form: /signin -> /login -> POST /login -> /signin/resume, 4 requests)
 *   - single sign-on answers (/signin with a session cookie: no directory call)
 * Prints figures; asserts nothing. Client and server share this process (and so its core): the
 * figures are a lower bound for a server process on its own core.
 *
 *   npx tsx bench/signin.ts [seconds=5] [concurrency=16]
 * Needs slapd and ldap-utils (scripts/install-test-deps.sh).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import { createLogger } from '../src/observability/logger.js';
import { buildServices, closeServices } from '../src/services.js';

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 16);
const SLAPD_PORT = 21489;
const SLAPD_TLS_PORT = 21789;

const dir = mkdtempSync(join(tmpdir(), 'fedgate-bench-'));
const slapdOut = execFileSync('bash', ['test/harness/start-slapd.sh', join(dir, 'slapd'), String(SLAPD_PORT), String(SLAPD_TLS_PORT)], { encoding: 'utf8' });
const slapdPid = Number(/SLAPD_PID=(\d+)/.exec(slapdOut)?.[1]);

const config = parseConfig({
  server: { baseUrl: 'http://127.0.0.1:8080' },
  dataDir: join(dir, 'data'),
  directory: {
    type: 'ldap', urls: [`ldap://127.0.0.1:${SLAPD_PORT}`], bindDn: 'cn=admin,dc=example,dc=test', bindPassword: 'adminpw',
    userBase: 'ou=people,dc=example,dc=test', netbiosDomain: 'EXAMPLE', poolSize: 8,
    groups: { strategy: 'memberOf', base: 'ou=groups,dc=example,dc=test' },
  },
  signIn: { maxAttemptsPerIpPerMinute: 10_000_000, maxFailuresPerUser: 1_000_000 },
  logging: { level: 'info' },
}, 'bench', dir, {});
// Logs are written (as in production) but to a sink that drops them: the cost of pino stays in.
const log = createLogger('info', new Writable({ write(_c, _e, done) { done(); } }));
const services = await buildServices(config, log);
const server = createServer(createApp(services));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

function cookiesOf(res: Response, jar: Map<string, string>): void {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
  }
}
const cookieHeader = (jar: Map<string, string>) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
const get = async (path: string, jar: Map<string, string>) => {
  const res = await fetch(base + path, { redirect: 'manual', headers: { cookie: cookieHeader(jar) } });
  cookiesOf(res, jar);
  return res;
};

async function passwordSignIn(jar: Map<string, string>): Promise<void> {
  const start = await get('/signin?fresh=1', jar);
  const form = await get(start.headers.get('location')!, jar);
  const html = await form.text();
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)![1]!;
  const body = new URLSearchParams({ pending: field('pending'), csrf: field('csrf'), UserName: 'alice@example.test', Password: 'Passw0rd!alice' });
  const posted = await fetch(`${base}/login`, { method: 'POST', redirect: 'manual', body, headers: { cookie: cookieHeader(jar), 'content-type': 'application/x-www-form-urlencoded' } });
  cookiesOf(posted, jar);
  if (posted.status !== 303) throw new Error(`sign-in failed: ${posted.status}`);
  await (await get(posted.headers.get('location')!, jar)).arrayBuffer();
}

async function ssoAnswer(jar: Map<string, string>): Promise<void> {
  const res = await get('/signin', jar);
  if (res.headers.get('location') !== '/') throw new Error('no single sign-on');
  await res.arrayBuffer();
}

async function measure(name: string, op: (jar: Map<string, string>) => Promise<void>, prepare?: (jar: Map<string, string>) => Promise<void>) {
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const cpuStart = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    const jar = new Map<string, string>();
    if (prepare) await prepare(jar);
    while (performance.now() < deadline) {
      const s = performance.now();
      await op(jar);
      latencies.push(performance.now() - s);
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(2);
  const perCpuSecond = latencies.length / ((cpu.user + cpu.system) / 1e6);
  console.log(`${name.padEnd(34)} ${String(latencies.length).padStart(7)} in ${elapsed.toFixed(1)} s = ${(latencies.length / elapsed).toFixed(0).padStart(6)}/s` +
    `  (${perCpuSecond.toFixed(0)} per CPU-second of this process)  p50 ${pct(0.5)} ms  p99 ${pct(0.99)} ms`);
}

console.log(`fedgate sign-in bench: ${seconds} s per case, ${concurrency} concurrent clients, slapd on 127.0.0.1:${SLAPD_PORT}, node ${process.version}`);
await measure('password sign-in (4 requests)', passwordSignIn);
await measure('single sign-on answer (1 request)', ssoAnswer, passwordSignIn);
const mem = process.memoryUsage();
console.log(`memory: rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`);

server.close();
await closeServices(services);
process.kill(slapdPid, 'SIGTERM');
