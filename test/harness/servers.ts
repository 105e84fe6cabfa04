import { execFile } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Real directory servers for the tests, on 127.0.0.1: slapd (any free slot of ports) and Samba
 * AD (fixed ports 88/389/636). Each server dir under $TMPDIR/fedgate-test has an owner file with
 * the pid of the process that started it, so that parallel runs (two developers' vitest, or a
 * worker starting extra slapds) never share or kill each other's servers, and a server left by
 * an aborted run is found and stopped by the next run.
 */
export interface SlapdServer {
  readonly url: string;
  readonly ldapsUrl: string;
  readonly port: number;
  readonly tlsPort: number;
  readonly base: string;
  readonly adminDn: string;
  readonly adminPassword: string;
  /** PEM of the self-signed certificate slapd serves (its own CA). */
  readonly caFile: string;
  readonly pid: number;
  readonly dir: string;
}

export interface SambaServer {
  readonly ldapUrl: string;
  readonly ldapsUrl: string;
  readonly base: string;
  /** fedgate's service account (search-then-bind). */
  readonly bindDn: string;
  readonly bindPassword: string;
  readonly adminUpn: string;
  readonly adminPassword: string;
  readonly caFile: string;
  readonly realm: string;
  /** Client krb5.conf pointing at Samba's KDC on 127.0.0.1:88 (set KRB5_CONFIG to it). */
  readonly krb5Config: string;
  /** Keytab of HTTP/localhost (service account svc-http), for SPNEGO tests. */
  readonly httpKeytab: string;
  readonly smbConf: string;
  readonly pid: number;
  readonly dir: string;
}

/** A throwaway MIT KDC (start-mit-kdc.sh): realm KRB.TEST, users alice and bob (users.ts passwords). */
export interface MitKdcServer {
  readonly realm: string;
  /** Client krb5.conf pointing at this KDC (set KRB5_CONFIG to it). */
  readonly krb5Config: string;
  /** The KDC's own profile (KRB5_KDC_PROFILE), which kadmin.local needs too. */
  readonly kdcProfile: string;
  /** Keytab of HTTP/localhost and HTTP/<hostname> (AES keys). */
  readonly keytab: string;
  readonly kdcPort: number;
  readonly pid: number;
  readonly dir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    slapd: SlapdServer;
    /** null when no selected test file mentions Samba (the run then does not start it). */
    samba: SambaServer | null;
    /** null when no selected test file uses the MIT KDC (test/harness/kerberos.ts mitKdc()). */
    mitKdc: MitKdcServer | null;
  }
}

const HARNESS = dirname(fileURLToPath(import.meta.url));
export const TEST_ROOT = join(os.tmpdir(), 'fedgate-test');

function run(script: string, args: string[], timeoutMs: number): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    execFile('bash', [join(HARNESS, script), ...args], { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${script} ${args.join(' ')} failed (${err.message.split('\n')[0]}):\n${stderr}`));
        return;
      }
      const vars: Record<string, string> = {};
      for (const line of stdout.split('\n')) {
        const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
        if (m) vars[m[1]!] = m[2]!;
      }
      resolve(vars);
    });
  });
}

function need(vars: Record<string, string>, key: string): string {
  const v = vars[key];
  if (v === undefined) throw new Error(`start script printed no ${key}`);
  return v;
}

/**
 * Whether `pid` runs. A stopped server whose parent script has exited is reparented to pid 1,
 * which here reaps late: the zombie still answers kill(pid, 0), so /proc's state decides.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopPid(pid: number, graceMs = 5000): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    const killDeadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < killDeadline) await sleep(50);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Stops what an earlier, dead owner left in `dir` (its server pid file). */
async function stopLeftover(dir: string, pidFile: string): Promise<void> {
  const pid = readPid(join(dir, pidFile));
  if (pid !== undefined && isAlive(pid)) await stopPid(pid);
}

/**
 * Claims `dir` for this process. False when a live process owns it; a dead owner's server is
 * stopped first.
 */
async function claim(dir: string, pidFile: string): Promise<boolean> {
  mkdirSync(TEST_ROOT, { recursive: true });
  const ownerFile = `${dir}.owner`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(ownerFile, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readPid(ownerFile);
    // Ours (another server of this process) or a live run's: in use. Only a dead owner's is stale.
    if (owner !== undefined && isAlive(owner)) return false;
    await stopLeftover(dir, pidFile);
    rmSync(ownerFile, { force: true });
  }
  return false;
}

function release(dir: string): void {
  if (readPid(`${dir}.owner`) === process.pid) rmSync(`${dir}.owner`, { force: true });
}

/** Runs a start script in a claimed dir; on failure stops what it left and gives the dir up. */
async function runClaimed(dir: string, pidFile: string, script: string, args: string[], timeoutMs: number): Promise<Record<string, string>> {
  try {
    return await run(script, args, timeoutMs);
  } catch (err) {
    await stopLeftover(dir, pidFile);
    release(dir);
    throw err;
  }
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts a seeded slapd in the first free slot: slot k listens on basePort+k and baseTlsPort+k.
 * The main run uses 21389/21636; extra servers (failover tests) use 21450/21700 and up.
 */
export async function startSlapd(name: string, basePort: number, baseTlsPort: number, slots = 20): Promise<SlapdServer> {
  for (let k = 0; k < slots; k++) {
    const port = basePort + k;
    const tlsPort = baseTlsPort + k;
    // The port is in the name: two bases of the same name never share a directory.
    const dir = join(TEST_ROOT, `${name}-${port}`);
    if (!(await claim(dir, 'slapd.pid'))) continue;
    if ((await portInUse(port)) || (await portInUse(tlsPort))) {
      release(dir);
      continue;
    }
    const vars = await runClaimed(dir, 'slapd.pid', 'start-slapd.sh', [dir, String(port), String(tlsPort)], 60_000);
    return {
      url: need(vars, 'LDAP_URL'), ldapsUrl: need(vars, 'LDAPS_URL'), port, tlsPort,
      base: need(vars, 'LDAP_BASE'), adminDn: need(vars, 'LDAP_ADMIN_DN'), adminPassword: need(vars, 'LDAP_ADMIN_PW'),
      caFile: need(vars, 'LDAPTLS_CACERT'), pid: Number(need(vars, 'SLAPD_PID')), dir,
    };
  }
  throw new Error(`no free slapd slot: ports ${basePort}-${basePort + slots - 1} are all taken`);
}

export async function stopSlapd(server: Pick<SlapdServer, 'pid' | 'dir'>): Promise<void> {
  await stopPid(server.pid);
  release(server.dir);
}

/**
 * Starts the seeded Samba AD DC. Its ports are fixed, so only one can run on the machine: when
 * another live run owns it, wait for that run to finish (up to `waitMs`).
 */
export async function startSamba(waitMs = 15 * 60_000, onWait?: (owner: string) => void): Promise<SambaServer> {
  const dir = join(TEST_ROOT, 'samba-ad');
  const deadline = Date.now() + waitMs;
  let told = false;
  while (!(await claim(dir, 'samba.pid'))) {
    if (Date.now() > deadline) {
      throw new Error(`Samba AD is held by process ${readPid(`${dir}.owner`)} (another test run) for over ${waitMs / 1000} s`);
    }
    if (!told) onWait?.(String(readPid(`${dir}.owner`)));
    told = true;
    await sleep(2000);
  }
  const vars = await runClaimed(dir, 'samba.pid', 'start-samba-ad.sh', [dir], 180_000);
  return {
    ldapUrl: need(vars, 'AD_LDAP_URL'), ldapsUrl: need(vars, 'AD_LDAPS_URL'), base: need(vars, 'AD_BASE'),
    bindDn: need(vars, 'AD_BIND_DN'), bindPassword: need(vars, 'AD_BIND_PW'),
    adminUpn: need(vars, 'AD_ADMIN_UPN'), adminPassword: need(vars, 'AD_ADMIN_PW'), caFile: need(vars, 'AD_TLS_CA'),
    realm: need(vars, 'AD_REALM'), krb5Config: need(vars, 'AD_KRB5_CONFIG'), httpKeytab: need(vars, 'AD_HTTP_KEYTAB'),
    smbConf: need(vars, 'SAMBA_SMBCONF'), pid: Number(need(vars, 'SAMBA_PID')), dir,
  };
}

export async function stopSamba(server: Pick<SambaServer, 'pid' | 'dir'>): Promise<void> {
  await stopPid(server.pid);
  release(server.dir);
}

/**
 * Starts a throwaway MIT KDC in the first free slot (port basePort+k, below 32768: see the script).
 * It is per run, like slapd, so parallel runs each get their own.
 */
export async function startMitKdc(basePort = 21088, slots = 10): Promise<MitKdcServer> {
  for (let k = 0; k < slots; k++) {
    const port = basePort + k;
    const dir = join(TEST_ROOT, `mit-kdc-${port}`);
    if (!(await claim(dir, 'krb5kdc.pid'))) continue;
    if (await portInUse(port)) {
      release(dir);
      continue;
    }
    const vars = await runClaimed(dir, 'krb5kdc.pid', 'start-mit-kdc.sh', [dir, String(port)], 60_000);
    return {
      realm: need(vars, 'KRB_REALM'), krb5Config: need(vars, 'KRB5_CONFIG'), kdcProfile: need(vars, 'KRB5_KDC_PROFILE'),
      keytab: need(vars, 'KRB_KEYTAB'), kdcPort: port, pid: Number(need(vars, 'KRB5KDC_PID')), dir,
    };
  }
  throw new Error(`no free MIT KDC slot: ports ${basePort}-${basePort + slots - 1} are all taken`);
}

export async function stopMitKdc(server: Pick<MitKdcServer, 'pid' | 'dir'>): Promise<void> {
  await stopPid(server.pid);
  release(server.dir);
}
