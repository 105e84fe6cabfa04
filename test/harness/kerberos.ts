import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import kerberos from 'kerberos';
import { inject } from 'vitest';
import { sambaServer } from './directories.js';
import { isAlive, TEST_ROOT, type MitKdcServer } from './servers.js';
import { USERS } from './users.js';

/**
 * Kerberos for the SPNEGO tests: the run's MIT KDC (realm KRB.TEST) and the Samba AD KDC (realm
 * EXAMPLE.TEST, 127.0.0.1:88), tickets with kinit, and two "browsers": a Node GSSAPI client
 * (negotiateToken) and curl --negotiate (curlNegotiate).
 *
 * Process-global environment, the one trap here: libkrb5 reads KRB5_CONFIG, KRB5CCNAME and
 * KRB5_KTNAME from the environment each time a call makes a krb5 context, and the `kerberos`
 * module makes its calls on libuv worker threads. So negotiateToken sets KRB5_CONFIG/KRB5CCNAME
 * only for its own calls, serialized with every other withKrb5Env user, and restores them after.
 * A fedgate acceptor in the same test process reads the same process environment: it needs only
 * KRB5_KTNAME (fedgate sets it from authn.kerberos.keytab), and with the realm in the keytab it
 * needs no krb5.conf. A test that also wants the acceptor to see a krb5.conf (e.g.
 * ignore_acceptor_hostname of the MIT one) sets process.env.KRB5_CONFIG itself for the file; the
 * helpers here put back whatever value they found. Child processes (kinit, curl, kadmin) always
 * get their variables explicitly and never depend on this process's.
 */

export interface KerberosRealm {
  readonly realm: string;
  /** Client krb5.conf for this KDC (KRB5_CONFIG). */
  readonly krb5Config: string;
  /** Keytab of HTTP/localhost (AES keys), for an acceptor (KRB5_KTNAME=FILE:<keytab>). */
  readonly keytab: string;
}

export interface MitKdc extends KerberosRealm {
  readonly kdcPort: number;
  /** Adds (or, when it exists, resets and re-enables) a user principal. */
  addUser(name: string, password: string): Promise<void>;
  /** `modprinc -allow_tix`: the KDC refuses new tickets; tickets already issued stay valid. */
  disableUser(name: string): Promise<void>;
  /**
   * A service principal with a random key, exported to its own new keytab (AES only): for
   * wrong-SPN and stale-keytab tests that must not disturb the shared HTTP/localhost keytab.
   */
  addService(principal: string): Promise<string>;
  /** New random key (kvno + 1) in the KDC only: keytabs exported before are now stale. */
  rotateKey(principal: string): Promise<void>;
  /** Any kadmin.local query against this KDC's database; resolves with its output. */
  kadmin(query: string): Promise<string>;
}

/** The seeded principals of start-mit-kdc.sh: shared by every test file of the run. */
const MIT_SEEDED = new Set(['alice', 'bob']);

/** The run's MIT KDC; throws when the global setup did not start it. */
export function mitKdc(): MitKdc {
  const server = inject('mitKdc');
  if (!server) throw new Error('the MIT KDC was not started: the global setup starts it only for test files that call mitKdc()');
  return mitKdcOf(server);
}

function mitKdcOf(server: MitKdcServer): MitKdc {
  const kadmin = (query: string) => kadminLocal(server, query);
  return {
    realm: server.realm,
    krb5Config: server.krb5Config,
    keytab: server.keytab,
    kdcPort: server.kdcPort,
    kadmin,
    async addUser(name, password) {
      checkArg(name, 'name');
      checkArg(password, 'password');
      const added = await kadmin(`addprinc -pw "${password}" ${name}`).then(() => true, (err: Error) => {
        if (/already exists/i.test(err.message)) return false;
        throw err;
      });
      // Idempotent across re-runs against the same KDC (vitest watch): reset and re-enable.
      if (!added) {
        await kadmin(`cpw -pw "${password}" ${name}`);
        await kadmin(`modprinc +allow_tix ${name}`);
      }
    },
    async disableUser(name) {
      checkArg(name, 'name');
      if (MIT_SEEDED.has(name)) throw new Error(`${name} is shared by every test file: disable a user of your own (addUser)`);
      await kadmin(`modprinc -allow_tix ${name}`);
    },
    async addService(principal) {
      checkArg(principal, 'principal');
      mkdirSync(join(server.dir, 'keytabs'), { recursive: true });
      const keytab = join(server.dir, 'keytabs', `${principal.replace(/[^A-Za-z0-9.-]/g, '_')}-${process.pid}-${Date.now()}.keytab`);
      await kadmin(`addprinc -randkey ${principal}`);
      await kadmin(`ktadd -k ${keytab} -e aes256-cts-hmac-sha1-96:normal,aes128-cts-hmac-sha1-96:normal ${principal}`);
      return keytab;
    },
    async rotateKey(principal) {
      checkArg(principal, 'principal');
      await kadmin(`cpw -randkey -e aes256-cts-hmac-sha1-96:normal,aes128-cts-hmac-sha1-96:normal ${principal}`);
    },
  };
}

/** kadmin.local's -q is split by its own parser: names and passwords go in unquoted or in "…". */
function checkArg(value: string, what: string): void {
  if (!value || /["\s\\]/.test(value)) throw new Error(`${what} ${JSON.stringify(value)}: no quotes, spaces or backslashes`);
}

function kadminLocal(server: MitKdcServer, query: string): Promise<string> {
  const env = { ...process.env, KRB5_CONFIG: server.krb5Config, KRB5_KDC_PROFILE: server.kdcProfile };
  return new Promise((resolve, reject) => {
    execFile('kadmin.local', ['-r', server.realm, '-q', query], { env, timeout: 15_000 }, (err, stdout, stderr) => {
      const out = `${stdout}${stderr}`;
      // kadmin.local exits 0 when a query fails: its message is the only sign.
      if (err || /error|while |not found|unable|already exists/i.test(out.replace(/^Authenticating as .*$/m, ''))) {
        reject(new Error(`kadmin.local -q '${query.replace(/-pw "[^"]*"/, '-pw ***')}' failed: ${(err?.message ?? out).trim()}`));
        return;
      }
      resolve(out);
    });
  });
}

export interface SambaKerberos extends KerberosRealm {
  readonly realm: 'EXAMPLE.TEST';
}

/** The run's Samba AD KDC (127.0.0.1:88) and the HTTP/localhost keytab of its svc-http account. */
export function sambaKerberos(): SambaKerberos {
  const samba = sambaServer();
  if (samba.realm !== 'EXAMPLE.TEST') throw new Error(`Samba realm is ${samba.realm}, the tests expect EXAMPLE.TEST`);
  return { realm: 'EXAMPLE.TEST', krb5Config: samba.krb5Config, keytab: samba.httpKeytab };
}

/** The shared users of users.ts (alice, bob, carol, ...) and the seeded service accounts. */
function refuseShared(name: string): void {
  if (name in USERS || /^(svc-|administrator$|krbtgt$|guest$)/i.test(name)) {
    throw new Error(`${name} is shared by every test file: create a user of your own (createSambaUser)`);
  }
}

function sambaTool(args: readonly string[]): Promise<string> {
  const samba = sambaServer();
  return new Promise((resolve, reject) => {
    // samba-tool works on the local sam.ldb while the DC runs; the KDC sees changes at once.
    execFile('samba-tool', [...args, '-s', samba.smbConf], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`samba-tool ${args.slice(0, 2).join(' ')} failed: ${`${stderr}${stdout}`.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * A Samba AD user of the test's own (CN=<name>,CN=Users,DC=example,DC=test, UPN name@example.test),
 * e.g. to disable after its ticket was issued. AD's password complexity applies. Idempotent:
 * an existing user gets the password again and is enabled.
 */
export async function createSambaUser(name: string, password: string): Promise<void> {
  refuseShared(name);
  try {
    await sambaTool(['user', 'create', name, password, '--use-username-as-cn']);
  } catch (err) {
    if (!/already exists/i.test((err as Error).message)) throw err;
    await sambaTool(['user', 'setpassword', name, `--newpassword=${password}`]);
    await sambaTool(['user', 'enable', name]);
  }
}

/**
 * A Samba AD computer account of the test's own (CN=<name>,CN=Computers, sAMAccountName NAME$,
 * primary group Domain Computers), as a domain join makes it, with a known password so that
 * `kinit NAME$@EXAMPLE.TEST` gets its ticket. Idempotent. Resolves with the sAMAccountName.
 * Disable it with disableSambaUser(sAMAccountName).
 */
export async function createSambaComputer(name: string, password: string): Promise<string> {
  refuseShared(name);
  if (!/^[A-Za-z0-9-]{1,15}$/.test(name)) throw new Error(`computer name ${JSON.stringify(name)}: at most 15 letters, digits or hyphens (NetBIOS)`);
  const account = `${name}$`;
  try {
    await sambaTool(['computer', 'add', name]);
  } catch (err) {
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
  await sambaTool(['user', 'setpassword', account, `--newpassword=${password}`]);
  await sambaTool(['user', 'enable', account]);
  return account;
}

/** userAccountControl |= ACCOUNTDISABLE (514): kinit then fails with "credentials have been revoked". */
export async function disableSambaUser(name: string): Promise<void> {
  refuseShared(name);
  await sambaTool(['user', 'disable', name]);
}

// Credential caches (and curl's scratch files) live in one folder per test process, removed
// when the process exits; vitest may end a worker without 'exit', so the next process removes
// the folders of dead ones.
let scratchRoot: string | undefined;
function scratchDir(): string {
  if (!scratchRoot) {
    mkdirSync(TEST_ROOT, { recursive: true });
    for (const name of readdirSync(TEST_ROOT)) {
      const pid = /^krb5-client-(\d+)-/.exec(name)?.[1];
      if (pid && !isAlive(Number(pid))) rmSync(join(TEST_ROOT, name), { recursive: true, force: true });
    }
    const root = mkdtempSync(join(TEST_ROOT, `krb5-client-${process.pid}-`));
    scratchRoot = root;
    process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  }
  return mkdtempSync(join(scratchRoot, 'x-'));
}

/**
 * kinit with the password on stdin; resolves with a fresh credential cache (`FILE:/…/ccache`),
 * for KRB5CCNAME. Rejects with kinit's own message (e.g. "Password incorrect", "Client's
 * credentials have been revoked" for a disabled AD account, "Client ... not found").
 */
export function kinit(krb5Config: string, principal: string, password: string): Promise<string> {
  const ccache = `FILE:${join(scratchDir(), 'ccache')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('kinit', [principal], {
      env: { ...process.env, KRB5_CONFIG: krb5Config, KRB5CCNAME: ccache },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(ccache);
      else reject(new Error(`kinit ${principal} failed (${signal ?? `exit ${code}`}): ${output.replace(/^Password for .*?: ?/m, '').trim()}`));
    });
    child.stdin.end(`${password}\n`);
  });
}

// One chain for every call that sets Kerberos variables in this process (see the file comment).
let envChain: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` with the given variables in process.env (undefined removes one), serialized with
 * every other caller, and puts the previous values back after it settles. For in-process
 * acceptors in tests (KRB5_KTNAME), and used by negotiateToken. Not reentrant: `fn` must not
 * call withKrb5Env or negotiateToken (it would wait for itself).
 */
export function withKrb5Env<T>(vars: Readonly<Record<string, string | undefined>>, fn: () => Promise<T>): Promise<T> {
  const run = async () => {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    setEnv(vars);
    try {
      return await fn();
    } finally {
      setEnv(saved);
    }
  };
  const result = envChain.then(run, run);
  envChain = result.catch(() => undefined);
  return result;
}

function setEnv(vars: Readonly<Record<string, string | undefined>>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

export interface NegotiateToken {
  /** The Authorization header value: `Negotiate <base64 SPNEGO NegTokenInit>`. */
  readonly header: string;
  /**
   * Checks the server's mutual-authentication token (the `WWW-Authenticate: Negotiate <base64>`
   * of the 200 answer: SPNEGO accept-completed with the Kerberos AP-REP). Rejects when there is
   * no token or it does not verify.
   */
  verifyServerToken(wwwAuthenticate: string): Promise<void>;
}

/**
 * A browser's first (and, for Kerberos, only) SPNEGO token: the Node GSSAPI client asks the KDC
 * for a ticket to `service` (GSS host-based name, default HTTP@localhost = HTTP/localhost) with
 * the TGT in `ccache`.
 */
export async function negotiateToken(options: { krb5Config: string; ccache: string; service?: string }): Promise<NegotiateToken> {
  const env = { KRB5_CONFIG: options.krb5Config, KRB5CCNAME: options.ccache };
  const service = options.service ?? 'HTTP@localhost';
  const { client, token } = await withKrb5Env(env, async () => {
    const client = await kerberos.initializeClient(service, { mechOID: kerberos.GSS_MECH_OID_SPNEGO });
    return { client, token: await client.step('') };
  }).catch((err: Error) => {
    throw new Error(`no Negotiate token for ${service} with ${options.ccache}: ${err.message}`);
  });
  return {
    header: `Negotiate ${token}`,
    async verifyServerToken(wwwAuthenticate) {
      const m = /^Negotiate\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(wwwAuthenticate.trim());
      if (!m) throw new Error(`no mutual-authentication token in WWW-Authenticate: ${JSON.stringify(wwwAuthenticate)}`);
      await withKrb5Env(env, () => client.step(m[1]!));
      if (!client.contextComplete) throw new Error('the server token did not complete the SPNEGO context');
    },
  };
}

export interface CurlResult {
  /** Status of the last response (after the Negotiate retry, and after redirects with followRedirects). */
  readonly status: number;
  /** Headers of the last response, names in lower case (repeated ones joined with ", "; set-cookie with "\n"). */
  readonly headers: Record<string, string>;
  /** Body of the last response. */
  readonly body: string;
  /** The Location of each redirect followed (followRedirects), in order. */
  readonly redirects: string[];
  /** Every status curl saw, in order, e.g. [401, 200] for a Negotiate round trip. */
  readonly statuses: number[];
}

export interface CurlNegotiateOptions {
  krb5Config: string;
  /** A credential cache from kinit; none = a browser without a ticket. */
  ccache?: string;
  userAgent?: string;
  /** A cookie file curl reads and writes (-b/-c): keeps the session across calls. */
  cookieJar?: string;
  /** -L: follow redirects (to the same host, curl keeps negotiating). */
  followRedirects?: boolean;
  /**
   * Send no Authorization until a 401 asks for Negotiate, as browsers do (curl --anyauth).
   * Default false: plain `curl --negotiate` sends its token with the very first request.
   */
  challengeFirst?: boolean;
}

/**
 * curl -u : as a browser: with `ccache` it sends a ticket for HTTP@<host of the URL> (so use
 * http://localhost:PORT, not 127.0.0.1); without one it is a browser that has no ticket (after a
 * 401 it just shows the body). localhost and this machine's name are pinned to 127.0.0.1 (never
 * ::1). curl checks the server's mutual-auth token itself.
 *
 * Unlike a browser, `curl --negotiate` sends its token unasked with the first request (and again
 * after each same-host redirect); `challengeFirst` makes it wait for the 401 challenge
 * (--anyauth). Without a ticket and with challengeFirst, curl asks twice (statuses [401, 401]).
 */
export function curlNegotiate(url: string, options: CurlNegotiateOptions): Promise<CurlResult> {
  const dir = scratchDir();
  const headerFile = join(dir, 'headers');
  const bodyFile = join(dir, 'body');
  const args = [options.challengeFirst ? '--anyauth' : '--negotiate', '-u', ':', '-s', '-S', '-D', headerFile, '-o', bodyFile, '-w', '%{http_code}',
    '--max-time', '20', '--connect-to', 'localhost::127.0.0.1:', '--connect-to', `${os.hostname()}::127.0.0.1:`];
  if (options.followRedirects) args.push('-L', '--max-redirs', '20');
  if (options.userAgent !== undefined) args.push('-A', options.userAgent);
  if (options.cookieJar) args.push('-b', options.cookieJar, '-c', options.cookieJar);
  // No ccache: one that does not exist, so a KRB5CCNAME of this process or a default cache is never used.
  const env = { ...process.env, KRB5_CONFIG: options.krb5Config, KRB5CCNAME: options.ccache ?? `FILE:${join(dir, 'none')}` };
  return new Promise((resolve, reject) => {
    execFile('curl', [...args, url], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      try {
        if (err) throw new Error(`curl ${url} failed: ${stderr.trim() || err.message}`);
        const blocks = parseHeaderBlocks(readFileSync(headerFile, 'latin1'));
        const last = blocks.at(-1);
        if (!last) throw new Error(`curl ${url}: no response headers`);
        const redirects = options.followRedirects
          ? blocks.slice(0, -1).filter((b) => b.status >= 300 && b.status < 400 && b.headers.location).map((b) => b.headers.location!)
          : [];
        resolve({
          status: Number(stdout.trim()) || last.status,
          headers: last.headers,
          body: readFileSync(bodyFile, 'utf8'),
          redirects,
          statuses: blocks.map((b) => b.status),
        });
      } catch (e) {
        reject(e);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

interface HeaderBlock {
  status: number;
  headers: Record<string, string>;
}

/** curl -D writes the header block of every response (401 challenge, redirects, the last one). */
function parseHeaderBlocks(text: string): HeaderBlock[] {
  const blocks: HeaderBlock[] = [];
  for (const line of text.split(/\r?\n/)) {
    const status = /^HTTP\/[\d.]+ (\d{3})/.exec(line);
    if (status) {
      blocks.push({ status: Number(status[1]), headers: {} });
      continue;
    }
    const block = blocks.at(-1);
    const colon = line.indexOf(':');
    if (!block || colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = block.headers[name];
    block.headers[name] = prev === undefined ? value : `${prev}${name === 'set-cookie' ? '\n' : ', '}${value}`;
  }
  // 100 Continue is not a response of its own.
  return blocks.filter((b) => b.status !== 100);
}

/**
 * A syntactically valid NTLM NEGOTIATE_MESSAGE (type 1), base64 (starts TlRMTVNTUAA): what a
 * Windows browser sends when it has no Kerberos ticket and falls back to NTLM.
 */
export function ntlmToken(): string {
  const msg = Buffer.alloc(32);
  msg.write('NTLMSSP\0', 0, 'latin1');
  msg.writeUInt32LE(1, 8); // MessageType: NEGOTIATE
  // NTLMSSP_NEGOTIATE_UNICODE | OEM | REQUEST_TARGET | NTLM | ALWAYS_SIGN | EXTENDED_SESSIONSECURITY | 128 | 56
  // (>>> 0: JavaScript's | yields a signed 32-bit number, and bit 31 is set.)
  msg.writeUInt32LE((0x00000001 | 0x00000002 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00080000 | 0x20000000 | 0x80000000) >>> 0, 12);
  // DomainNameFields and WorkstationFields (len, maxlen, offset): empty, offset = end of the message.
  msg.writeUInt16LE(0, 16); msg.writeUInt16LE(0, 18); msg.writeUInt32LE(32, 20);
  msg.writeUInt16LE(0, 24); msg.writeUInt16LE(0, 26); msg.writeUInt32LE(32, 28);
  return msg.toString('base64');
}
