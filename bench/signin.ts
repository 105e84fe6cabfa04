/**
 * Sign-in and token throughput of a real fedgate server process against a real slapd, driven over
 * loopback HTTP from this process. Figures are per CPU-second of the SERVER process (read from
 * /proc), so the client's own cost is not counted: "per core" as the README quotes it.
 *
 *   npx tsx bench/signin.ts [--seconds 5] [--concurrency 16] [--only WS-Fed|SAML] [--wrk | --wrk-only | --cores [--rounds 9]] [--floor]
 * --floor drives bench/floor-server.ts instead of fedgate (the portal and WS-Fed cases only): the
 * least those requests cost here with the parts the design requires and nothing else.
 * --wrk also drives the single-request cases with wrk (apt-get install wrk) from the other core
 * (SAML: each AuthnRequest written beforehand, wrk sending each once).
 * --cores instead runs `fedgate serve` itself over Redis state (a redis-server of the test
 * harness), with one worker and then one per core, drives the single-request cases with wrk on
 * all cores, and prints how many times one core's throughput (one worker pinned to one core) all
 * cores give (the median of
 * --rounds rounds, 1 and N workers alternating: the machine's own speed drifts between runs).
 *   FEDGATE_BENCH_PROF=/tmp/prof ... writes a CPU profile of the server process
 *
 * Cases: SSO answer on the portal; WS-Fed token for a signed-in user (Entra's redirect answered
 * with a signed token); fresh password sign-in + WS-Fed token (the form at Entra's redirect, the
 * POST answered with the token); SAML 2.0 SP-initiated sign-on (Redirect-binding AuthnRequest, unsigned and signed,
 * answered with a signed assertion) for a signed-in user and with a fresh password sign-in. The SAML
 * SP is @node-saml/node-saml in this process: it writes every AuthnRequest, and checks the first
 * Response of each case (signature, audience, recipient, time). Needs slapd
 * (scripts/install-test-deps.sh). Prints figures; asserts nothing.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';

const WCTX = 'estsredirect=2&estsrequest=rQQIARAAhZE9aBNhGMe_99HaBm1Dh';
const OIDC_REDIRECT = 'https://bench.test/callback';
const ENTRA = `/adfs/ls/?${new URLSearchParams({ username: 'alice@example.test', wa: 'wsignin1.0', wtrealm: 'urn:federation:MicrosoftOnline', wctx: WCTX })}`;
/** Two SAML SPs: one sends unsigned AuthnRequests, the other signs them (and fedgate requires it). */
const SAML_SP = { entityId: 'https://sp.bench.test/saml', acs: 'https://sp.bench.test/acs' };
const SIGNED_SP = { entityId: 'https://signed-sp.bench.test/saml', acs: 'https://signed-sp.bench.test/acs' };

/** What wrk --latency printed: requests, failures, median and 99th percentile latency. */
function wrkFigures(out: string) {
  return {
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    // Anchored: "50%" also ends figures of the thread statistics above the distribution.
    p50: /^\s+50%\s+(\S+)/m.exec(out)?.[1],
    p99: /^\s+99%\s+(\S+)/m.exec(out)?.[1],
  };
}

/** The server's configuration (before parsing): both the in-process server and `fedgate serve --cores`. */
function benchConfig(port: number, dataDir: string, slapdUrl: string, spCert: string): Record<string, unknown> {
  return {
    server: { baseUrl: `http://127.0.0.1:${port}` },
    dataDir,
    directory: {
      type: 'ldap', urls: [slapdUrl], bindDn: 'cn=admin,dc=example,dc=test', bindPassword: 'adminpw',
      userBase: 'ou=people,dc=example,dc=test', netbiosDomain: 'EXAMPLE', poolSize: 8,
      groups: { strategy: 'memberOf', base: 'ou=groups,dc=example,dc=test' },
    },
    signIn: { maxAttemptsPerIpPerMinute: 10_000_000, maxFailuresPerUser: 1_000_000, unfamiliarMaxFailuresPerUser: 1_000_000, maxStartsPerIpPerMinute: 10_000_000 },
    relyingParties: [
      { protocol: 'wsfed', profile: 'entra', domains: ['example.test'] },
      { protocol: 'oidc', identifier: 'bench', clientSecret: 'bench-secret-0123456789abcdef', firstParty: true, replyUrls: [OIDC_REDIRECT] },
      { protocol: 'saml', identifier: SAML_SP.entityId, replyUrls: [SAML_SP.acs] },
      { protocol: 'saml', identifier: SIGNED_SP.entityId, replyUrls: [SIGNED_SP.acs], signingCertificates: [spCert], requireSignedRequests: true },
    ],
  };
}

if (process.env.FEDGATE_BENCH_FLOOR) {
  // --floor: the lean server of bench/floor-server.ts instead of fedgate, driven the same way.
  const { startFloorServer } = await import('./floor-server.js');
  process.send!(await startFloorServer(process.env.FEDGATE_BENCH_FLOOR));
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
} else if (process.env.FEDGATE_BENCH_SERVER) {
  // The server process: slapd URL from the parent, the app on an ephemeral port; logs are written
  // (their cost stays in) to a sink.
  const [{ createApp }, { parseConfig }, { createLogger }, { buildServices }] = await Promise.all([
    import('../src/app.js'), import('../src/config/load.js'), import('../src/observability/logger.js'), import('../src/services.js')]);
  const dir = mkdtempSync(join(tmpdir(), 'fedgate-bench-'));
  // Listening first: SAML checks a request's Destination against the public URL, so it must be the real one.
  const server = createServer();
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const config = parseConfig(benchConfig(port, join(dir, 'data'), process.env.FEDGATE_BENCH_SERVER, process.env.FEDGATE_BENCH_SP_CERT!), 'bench', dir, {});
  const services = await buildServices(config, createLogger('info', new Writable({ write(_c, _e, done) { done(); } })));
  server.on('request', createApp(services));
  process.send!({ port, cert: services.keys.current.certificateBase64 });
  // A normal exit, so that --cpu-prof (FEDGATE_BENCH_PROF=dir) writes its profile; and none left behind when the bench fails.
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
} else {
  const { values: a } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '16' }, only: { type: 'string' }, wrk: { type: 'boolean', default: false }, 'wrk-only': { type: 'boolean', default: false }, cores: { type: 'boolean', default: false }, floor: { type: 'boolean', default: false }, rounds: { type: 'string', default: '9' } } });
  const seconds = Number(a.seconds);
  const concurrency = Number(a.concurrency);
  const { startSlapd, stopSlapd } = await import('../test/harness/servers.js');
  const slapd = await startSlapd('slapd-bench', 21431, 21681);
  const { generateSigningCertificate } = await import('../src/keys/generate-certificate.js');
  const spKey = await generateSigningCertificate('sp.bench.test', 86_400_000);
  const child: ChildProcess = fork(new URL(import.meta.url).pathname, [], { env: { ...process.env, [a.floor ? 'FEDGATE_BENCH_FLOOR' : 'FEDGATE_BENCH_SERVER']: slapd.url, FEDGATE_BENCH_SP_CERT: spKey.certPem }, execArgv: ['--import', 'tsx', ...(process.env.FEDGATE_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.FEDGATE_BENCH_PROF}`] : [])] });
  const { port, cert: idpCert } = await new Promise<{ port: number; cert: string }>((resolve) => child.once('message', resolve));
  /** Where the helpers below send requests: the in-process server, or (--cores) `fedgate serve`. */
  let base = `http://127.0.0.1:${port}`;
  /** CPU seconds of a process: user + system time (the kernel's part: its sockets' reads and writes). */
  const cpuSplitOf = (pid: number) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 }; // utime, stime: clock ticks of 10 ms
  };
  const cpuOf = (pid: number) => {
    const { user, system } = cpuSplitOf(pid);
    return user + system;
  };
  /** CPU seconds of a process and its children (a cluster primary and its workers), alive ones. */
  const treeCpuOf = (pid: number): number => {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
    return cpuOf(pid) + children.reduce((sum, child) => sum + treeCpuOf(child), 0);
  };

  type Jar = Map<string, string>;
  const cookieHeader = (jar: Jar) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (res: Response, jar: Jar) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  };
  const get = async (path: string, jar: Jar) => {
    const res = await fetch(base + path, { redirect: 'manual', headers: { cookie: cookieHeader(jar) } });
    keep(res, jar);
    return res;
  };
  const expectToken = async (res: Response) => {
    const html = await res.text();
    if (res.status !== 200 || !html.includes('name="wresult"')) throw new Error(`no token: ${res.status}`);
  };

  /** GETs path and follows its redirects (a Kerberos offer or an OIDC interaction sends the browser to /login first). */
  const follow = async (path: string, jar: Jar) => {
    let res = await get(path, jar);
    for (let hop = 0; hop < 5 && res.status >= 300 && res.status < 400; hop++) {
      await res.arrayBuffer();
      res = await get(res.headers.get('location')!, jar);
    }
    return res;
  };

  /**
   * The application's request answered with the form, the form's POST answered with the
   * protocol's page (the token page for WS-Fed and SAML); a redirect after the POST is followed.
   */
  const passwordSignIn = async (jar: Jar, start: string) => {
    const form = await follow(start, jar);
    const html = await form.text();
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)![1]!;
    const body = new URLSearchParams({ pending: field('pending'), csrf: field('csrf'), UserName: 'alice@example.test', Password: 'Passw0rd!alice' });
    const posted = await fetch(`${base}/login`, { method: 'POST', redirect: 'manual', body, headers: { cookie: cookieHeader(jar), 'content-type': 'application/x-www-form-urlencoded' } });
    keep(posted, jar);
    if (posted.status === 303) {
      await posted.arrayBuffer();
      return follow(posted.headers.get('location')!, jar);
    }
    if (posted.status !== 200) throw new Error(`sign-in failed: ${posted.status}`);
    return posted;
  };

  /**
   * One OpenID Connect authorization code flow for a signed-in user: /authorize (and the
   * provider's hops through fedgate's interaction) to the redirect URI's code, then /token with
   * PKCE and client_secret_basic: an RS256 ID token and an access token.
   */
  const oidcCodeFlow = async (jar: Jar) => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    let url = `/oidc/auth?${new URLSearchParams({ client_id: 'bench', response_type: 'code', redirect_uri: OIDC_REDIRECT, scope: 'openid',
      code_challenge: challenge, code_challenge_method: 'S256', state: 'bench-state', nonce: randomBytes(8).toString('hex') })}`;
    for (let hop = 0; hop < 10 && !url.startsWith(OIDC_REDIRECT); hop++) {
      const res = await get(url.startsWith('http') ? url.slice(base.length) : url, jar);
      await res.arrayBuffer();
      const next = res.headers.get('location');
      if (!next) throw new Error(`OIDC flow stopped at ${url} with ${res.status}`);
      url = next;
    }
    const code = new URL(url).searchParams.get('code');
    if (!code) throw new Error(`no code: ${url}`);
    const token = await fetch(`${base}/oidc/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('bench:bench-secret-0123456789abcdef').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: OIDC_REDIRECT, code_verifier: verifier }),
    });
    const body = (await token.json()) as { id_token?: string };
    if (!body.id_token) throw new Error(`no ID token: ${token.status}`);
  };

  // The SAML SPs, in this process: node-saml writes each AuthnRequest (a fresh ID: fedgate refuses replays).
  const { SAML, ValidateInResponseTo } = await import('@node-saml/node-saml');
  const samlSp = (sp: typeof SAML_SP, privateKey?: string) => new SAML({
    entryPoint: `${base}/saml/sso`, issuer: sp.entityId, audience: sp.entityId, callbackUrl: sp.acs, idpCert,
    wantAssertionsSigned: true, wantAuthnResponseSigned: false, validateInResponseTo: ValidateInResponseTo.never, privateKey, signatureAlgorithm: 'sha256',
  });
  const unsignedSp = samlSp(SAML_SP);
  const signedSp = samlSp(SIGNED_SP, spKey.keyPem);
  const checked = new Set<string>();
  /** AuthnRequest (Redirect binding) → the auto-post page with the Response; node-saml checks the first one of each case. */
  const samlSignOn = async (sp: InstanceType<typeof SAML>, jar: Jar, fresh = false) => {
    const path = (await sp.getAuthorizeUrlAsync('', undefined, {})).slice(base.length);
    const res = fresh ? await passwordSignIn(jar, path) : await get(path, jar);
    const response = /name="SAMLResponse" value="([^"]+)"/.exec(await res.text())?.[1];
    if (res.status !== 200 || !response) throw new Error(`no SAML Response: ${res.status}`);
    const kind = `${sp.options.issuer} ${fresh}`;
    if (!checked.has(kind)) {
      checked.add(kind);
      await sp.validatePostResponseAsync({ SAMLResponse: response });
    }
  };

  const portalSignIn = async (jar: Jar) => { await (await passwordSignIn(jar, '/signin')).arrayBuffer(); };
  const cases: [string, (jar: Jar) => Promise<void>, ((jar: Jar) => Promise<void>)?][] = [
    ['portal SSO answer (1 request)', async (jar) => { const r = await get('/signin', jar); await r.arrayBuffer(); if (r.headers.get('location') !== '/') throw new Error('no SSO'); },
      portalSignIn],
    ['WS-Fed token, signed-in user (1 request)', async (jar) => expectToken(await get(ENTRA, jar)),
      async (jar) => { await (await passwordSignIn(jar, ENTRA)).arrayBuffer(); }],
    ['OIDC code flow + PKCE, signed-in user (RS256)', oidcCodeFlow, portalSignIn],
    ['fresh password sign-in + WS-Fed token (2 requests)', async (jar) => { jar.clear(); await expectToken(await passwordSignIn(jar, ENTRA)); }],
    ['SAML SSO, signed-in user (1 request)', (jar) => samlSignOn(unsignedSp, jar), portalSignIn],
    ['SAML SSO, signed-in user, signed AuthnRequest', (jar) => samlSignOn(signedSp, jar), portalSignIn],
    ['fresh password sign-in + SAML Response (2 requests)', async (jar) => { jar.clear(); await samlSignOn(unsignedSp, jar, true); }],
  ];

  /** What the floor server (--floor) answers: the portal and WS-Fed, not OIDC or SAML. */
  const FLOOR_CASES = new Set([cases[0]![0], cases[1]![0], cases[3]![0]]);
  console.log(`${a.floor ? 'FLOOR (bench/floor-server.ts, not fedgate)' : 'fedgate'} bench: ${seconds} s per case, ${concurrency} clients, server pid ${child.pid}, slapd ${slapd.url}, node ${process.version}`);
  // This minute's physical limit: every token costs one RSA-2048 signature, and a shared machine's
  // speed drifts by a third over a day. Read the figures below against it.
  {
    const { createPrivateKey, sign } = await import('node:crypto');
    const key = createPrivateKey(spKey.keyPem);
    const data = Buffer.alloc(700, 1);
    for (let i = 0; i < 200; i++) sign('sha256', data, key);
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 2000) { sign('sha256', data, key); n++; }
    console.log(`RSA-2048 signatures alone, this process, this minute: ${(n / ((performance.now() - t0) / 1000)).toFixed(0)}/s (every token needs one)`);
  }
  for (const [name, op, prepare] of a.cores || a['wrk-only'] ? [] : cases.filter(([n]) => (!a.only || n.includes(a.only)) && (!a.floor || FLOOR_CASES.has(n)))) {
    const latencies: number[] = [];
    const jars = await Promise.all(Array.from({ length: concurrency }, async () => { const jar: Jar = new Map(); if (prepare) await prepare(jar); return jar; }));
    const cpu0 = cpuOf(child.pid!);
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(jars.map(async (jar) => {
      while (performance.now() < deadline) {
        const s = performance.now();
        await op(jar);
        latencies.push(performance.now() - s);
      }
    }));
    const elapsed = (performance.now() - t0) / 1000;
    const serverCpu = cpuOf(child.pid!) - cpu0;
    latencies.sort((x, y) => x - y);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
    console.log(`${name.padEnd(50)} ${(latencies.length / elapsed).toFixed(0).padStart(6)}/s wall, ` +
      `${(latencies.length / serverCpu).toFixed(0).padStart(6)} per server CPU-second, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms`);
  }
  // With wrk (a C client, Debian's package) on the other core and the server pinned to its own,
  // the single-request cases measure the server alone: the per-core figures the README quotes.
  if ((a.wrk || a['wrk-only']) && !a.cores) {
    execFileSync('taskset', ['-a', '-cp', '0', String(child.pid)], { stdio: 'ignore' }); // every thread of it
    /** A wrk script sending each path once, in turn: a replayed AuthnRequest ID would be refused. */
    const eachOnce = async (sp: InstanceType<typeof SAML>) => {
      const dir = mkdtempSync(join(tmpdir(), 'fedgate-wrk-'));
      const paths = await Promise.all(Array.from({ length: seconds * 3_000 }, async () => (await sp.getAuthorizeUrlAsync('', undefined, {})).slice(base.length)));
      writeFileSync(join(dir, 'paths'), paths.join('\n'));
      writeFileSync(join(dir, 'each-once.lua'), `local paths = {}\nfor line in io.lines("${dir}/paths") do paths[#paths + 1] = line end\n`
        + 'local i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format(nil, paths[(i - 1) % #paths + 1])\nend\n');
      return ['-s', join(dir, 'each-once.lua')];
    };
    /**
     * Fresh sign-ins driven by wrk: each form it gets back is posted next (its pending sign-in,
     * its CSRF token in the field and the cookie), every other request GETs Entra's redirect
     * without a session. Prints how many tokens came back and how many answers were neither.
     */
    const freshSignIns = async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'fedgate-wrk-')), 'fresh.lua');
      const csrfCookie = a.floor ? 'floor_csrf' : 'fedgate_csrf';
      writeFileSync(file, `local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) forms = {}; tokens = 0; bad = 0 end
request = function()
  local form = table.remove(forms)
  if not form then return wrk.format("GET", ${JSON.stringify(ENTRA)}) end
  local body = "pending=" .. form.pending .. "&csrf=" .. form.csrf .. "&UserName=alice%40example.test&Password=Passw0rd%21alice"
  return wrk.format("POST", "/login", { ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "${csrfCookie}=" .. form.csrf }, body)
end
response = function(status, headers, body)
  local pending = body:match('name="pending" value="([^"]*)"')
  if pending then table.insert(forms, { pending = pending, csrf = body:match('name="csrf" value="([^"]*)"') })
  elseif status == 200 and body:find('name="wresult"', 1, true) then tokens = tokens + 1
  else bad = bad + 1 end
end
function done(summary, latency, requests)
  local t, b = 0, 0
  for _, thread in ipairs(threads) do t = t + thread:get("tokens"); b = b + thread:get("bad") end
  io.write(string.format("tokens %d bad %d\\n", t, b))
end
`);
      return ['-s', file];
    };
    const wrkCases: [string, string, string, (() => Promise<string[]>)?][] = [
      ['portal SSO answer', '/signin', '/signin'], ['WS-Fed token, signed-in user', ENTRA, ENTRA], ['sign-in form at Entra\'s redirect', ENTRA, ''],
      ['fresh sign-in + WS-Fed token', ENTRA, '', freshSignIns],
      ['SAML SSO, signed-in user', '/saml/sso', '/signin', () => eachOnce(unsignedSp)],
      ['SAML SSO, signed AuthnRequest', '/saml/sso', '/signin', () => eachOnce(signedSp)],
    ];
    for (const [name, path, prepare, script] of wrkCases.filter(([n]) => (!a.only || n.includes(a.only)) && (!a.floor || !n.includes('SAML')))) {
      const jar: Jar = new Map();
      if (prepare) await (await passwordSignIn(jar, prepare)).arrayBuffer();
      const scriptArgs = script ? await script() : [];
      const cpu0 = cpuSplitOf(child.pid!);
      const out = execFileSync('taskset', ['-c', '1', 'wrk', '-t1', `-c${concurrency}`, `-d${seconds}s`, '--latency', ...scriptArgs, '-H', `Cookie: ${cookieHeader(jar)}`, base + path], { encoding: 'utf8' });
      const cpu1 = cpuSplitOf(child.pid!);
      const serverCpu = cpu1.user + cpu1.system - cpu0.user - cpu0.system;
      const systemShare = (cpu1.system - cpu0.system) / serverCpu;
      const { requests, non2xx, p50, p99 } = wrkFigures(out);
      // The fresh case counts sign-ins (tokens), each two requests; its latencies are per request.
      const counted = /^tokens (\d+) bad (\d+)/m.exec(out)?.map(Number);
      if (script === freshSignIns && !counted) throw new Error(`wrk did not count the sign-ins:\n${out}`);
      const [, tokens, bad] = counted ?? [0, requests, non2xx];
      console.log(`wrk, server pinned to one core: ${name.padEnd(30)} ${(tokens! / seconds).toFixed(0).padStart(6)}/s, ` +
        `${(tokens! / serverCpu).toFixed(0).padStart(6)} per server CPU-second (${(100 * systemShare).toFixed(0)}% of it in the kernel), p50 ${p50}, p99 ${p99}${bad ? `, ${bad} failed` : ''}`);
    }
  }
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  if (!a.cores) console.log(`server memory: rss ${rss.toFixed(0)} MiB`);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));

  // --cores: the same server as `fedgate serve` runs it, one worker per core against one worker.
  if (a.cores) {
    const { redisServer } = await import('../test/harness/redis.js');
    const redis = await redisServer();
    const dir = mkdtempSync(join(tmpdir(), 'fedgate-bench-cores-'));
    const port = 21961;
    const configFile = join(dir, 'fedgate.yaml');
    // JSON is YAML.
    writeFileSync(configFile, JSON.stringify({
      ...benchConfig(port, join(dir, 'data'), slapd.url, spKey.certPem),
      server: { baseUrl: `http://127.0.0.1:${port}`, listen: `127.0.0.1:${port}` },
      state: { type: 'redis', url: redis.url },
      logging: { level: 'info' }, // as the in-process server; and 'fedgate is listening' is awaited
    }));
    base = `http://127.0.0.1:${port}`;
    const cores = availableParallelism();
    const wrkCases: [string, string, string][] = [['portal SSO answer', '/signin', '/signin'], ['WS-Fed token, signed-in user', ENTRA, ENTRA]];
    /** Per case, the ratio of each round: the machine's speed drifts, so 1 and N workers alternate and the median is quoted. */
    const ratios = new Map<string, number[]>();
    const rounds = Number(a.rounds);
    const { FLOOR_SESSION } = await import('./floor-server.js');
    console.log(`bench --cores: ${a.floor ? 'FLOOR (bench/floor-cluster.ts: node:cluster, no Redis)' : 'fedgate serve over Redis'}, 1 worker pinned to one core then ${cores} workers on all, ${rounds} rounds, wrk ${concurrency} connections for ${seconds} s per case`);
    for (let round = 0; round < rounds; round++) {
    const rates = new Map<string, number[]>();
    for (const workers of [1, cores]) {
      // One core is one core: the single worker (and its primary) pinned to core 0, or its GC and
      // libuv threads would take part of the second; N workers get every core, shared with wrk and redis.
      const serve = a.floor
        ? [process.execPath, '--import', 'tsx', join(import.meta.dirname, 'floor-cluster.ts'), slapd.url, String(port), String(workers)]
        : [process.execPath, '--import', 'tsx', join(import.meta.dirname, '../test/harness/run-cli.ts'), 'serve', '--config', configFile, '--workers', String(workers)];
      const [command, ...args] = workers === 1 ? ['taskset', '-c', '0', ...serve] : serve;
      const server = spawn(command!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      server.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      const exited = new Promise((resolve) => server.once('exit', resolve));
      for (let waited = 0; (out.match(/"fedgate is listening"/g) ?? []).length < workers; waited += 100) {
        if (waited > 60_000 || server.exitCode !== null) throw new Error(`fedgate serve --workers ${workers} did not start:\n${out}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      for (const [name, path, prepare] of wrkCases.filter(([n]) => !a.only || n.includes(a.only))) {
        const jar: Jar = new Map();
        // The floor's processes share no state: each knows one signed-in session.
        if (!a.floor) await (await passwordSignIn(jar, prepare)).arrayBuffer();
        const cookie = a.floor ? FLOOR_SESSION : cookieHeader(jar);
        const cpu0 = treeCpuOf(server.pid!);
        const wrkOut = execFileSync('wrk', ['-t1', `-c${concurrency}`, `-d${seconds}s`, '--latency', '-H', `Cookie: ${cookie}`, base + path], { encoding: 'utf8' });
        const serverCpu = treeCpuOf(server.pid!) - cpu0;
        const { requests, non2xx, p50, p99 } = wrkFigures(wrkOut);
        rates.set(name, [...(rates.get(name) ?? []), requests / seconds]);
        console.log(`${`${workers} worker${workers > 1 ? 's' : ''}:`.padEnd(11)} ${name.padEnd(30)} ${(requests / seconds).toFixed(0).padStart(6)}/s, ` +
          `${(requests / serverCpu).toFixed(0).padStart(6)} per server CPU-second (${(serverCpu / seconds).toFixed(2)} cores busy), p50 ${p50}, p99 ${p99}${non2xx ? `, ${non2xx} failed` : ''}`);
      }
      server.kill('SIGTERM');
      await exited;
    }
    for (const [name, [one, all]] of rates) ratios.set(name, [...(ratios.get(name) ?? []), all! / one!]);
    }
    for (const [name, each] of ratios) {
      const sorted = [...each].sort((x, y) => x - y);
      console.log(`${name.padEnd(42)} ${cores} cores give ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}x one core (median of ${each.map((r) => r.toFixed(2)).join(', ')})`);
    }
    await redis.stop();
  }
  await stopSlapd(slapd);
}
