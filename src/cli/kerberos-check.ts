import { execFile, type ExecFileException } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import os from 'node:os';
import { ConfigError, loadConfigFile } from '../config/load.js';
import type { Config, KerberosConfig } from '../config/schema.js';
import { CliError, parseCommandArgs, runCommand } from './support.js';

/**
 * `fedgate kerberos-check`: validates authn.kerberos on the machine fedgate runs on, the way the
 * server will use it (same user, same keytab, same krb5 library), and says for each problem what
 * a domain admin has to run. Nothing here contacts a KDC: a keytab is all an acceptor needs.
 */
export const KERBEROS_CHECK_USAGE = `usage: fedgate kerberos-check --config FILE

  checks authn.kerberos: the keytab is readable by this user (and not by everyone), holds the
  service principal with AES keys in an accepted realm, and acceptor credentials can be acquired
  with it. Prints what a domain admin must fix; exit 0 when fine (warnings are printed), 1 on problems.
  Run it as the user fedgate runs as.
`;

type Level = 'ok' | 'note' | 'warning' | 'problem';

interface Finding {
  level: Level;
  message: string;
  /** What to run or change, one command or step per line. */
  fix?: string[];
}

/** One line of `klist -k -t -e`. */
export interface KeytabEntry {
  kvno: number;
  principal: string;
  enctype: string;
}

/** servicePrincipal split: HTTP/host[@REALM]. */
interface ServicePrincipal {
  service: string;
  host: string;
  realm?: string;
}

const AES = /^aes(128|256)-cts/i;
const RC4 = /arcfour-hmac|rc4-hmac/i;

// What an AD admin runs, with the placeholders they have to fill in.
const ACCOUNT = 'DOMAIN\\svc-fedgate';
const ktpass = (spn: string, realm: string) =>
  `ktpass /princ ${spn}@${realm} /mapuser ${ACCOUNT} /crypto AES256-SHA1 /ptype KRB5_NT_PRINCIPAL /pass * /out fedgate.keytab`;
const setspn = (spn: string) => `setspn -S ${spn} ${ACCOUNT}   (the service account fedgate's keytab belongs to)`;
const AES_FIX = [
  "on the service account: Set-ADUser svc-fedgate -Replace @{'msDS-SupportedEncryptionTypes'=24}   (24 = AES128 + AES256)",
  'then export the keytab again with AES keys (ktpass ... /crypto AES256-SHA1, which resets the password) and replace the file',
];

export async function runKerberosCheck(args: readonly string[]): Promise<number> {
  return runCommand(async () => {
    const { values, positionals } = parseCommandArgs(args, { config: { type: 'string', short: 'c' } }, KERBEROS_CHECK_USAGE);
    if (positionals.length > 0) throw new CliError(`unexpected argument: ${positionals.join(' ')}\n\n${KERBEROS_CHECK_USAGE}`, 2);
    const file = values.config ?? process.env.FEDGATE_CONFIG;
    if (!file) throw new CliError(`--config FILE is required\n\n${KERBEROS_CHECK_USAGE}`, 2);
    const findings = await check(file);
    process.stdout.write(report(file, findings));
    return findings.some((f) => f.level === 'problem') ? 1 : 0;
  });
}

async function check(file: string): Promise<Finding[]> {
  let config: Config;
  try {
    config = loadConfigFile(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // The loader checks that the keytab exists: a missing keytab is the commonest first problem.
    return err.problems.map((p) => (p.startsWith('authn.kerberos.keytab: file not found')
      ? { level: 'problem', message: p, fix: [
        'create the keytab on a domain controller and copy it here (owned by the user fedgate runs as, mode 0600):',
        ktpass('HTTP/<host of server.baseUrl>', '<REALM>'),
      ] }
      : { level: 'problem', message: p }));
  }
  const kerberos = config.authn.kerberos;
  if (!kerberos) {
    return [{ level: 'problem', message: 'authn.kerberos is not configured: there is nothing to check', fix: [
      'add authn.kerberos { keytab, servicePrincipal, realms } (see examples/fedgate.yaml)',
    ] }];
  }
  const findings: Finding[] = [];
  if (!kerberos.enabled) findings.push({ level: 'note', message: 'authn.kerberos.enabled is false: fedgate does not offer Negotiate (checked anyway)' });
  const spn = kerberos.servicePrincipal ? parseSpn(kerberos.servicePrincipal) : undefined;
  const baseHost = new URL(config.server.baseUrl).hostname;
  if (spn && spn.host.toLowerCase() !== baseHost.toLowerCase()) {
    findings.push({
      level: 'warning',
      message: `servicePrincipal ${kerberos.servicePrincipal} is not for the host of server.baseUrl (${baseHost}): browsers ask for a ticket to HTTP/${baseHost}`,
      fix: [`set servicePrincipal to HTTP/${baseHost}, or make sure users reach fedgate as ${spn.host}`],
    });
  }

  if (!fileChecks(kerberos.keytab, findings)) return findings;
  const entries = await keytabEntries(kerberos.keytab, findings);
  if (entries) keytabContents(kerberos, spn, baseHost, entries, findings);
  await acceptorCheck(kerberos, spn, entries, findings);
  return findings;
}

/** Exists, is readable by this user, is not readable by everyone. False when it cannot be read. */
function fileChecks(keytab: string, findings: Finding[]): boolean {
  const user = os.userInfo();
  let mode: number;
  try {
    mode = statSync(keytab).mode;
    accessSync(keytab, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    findings.push(code === 'ENOENT'
      ? { level: 'problem', message: `keytab ${keytab} does not exist`, fix: ['create it on a domain controller:', ktpass('HTTP/<host>', '<REALM>')] }
      : { level: 'problem', message: `keytab ${keytab} cannot be read by ${user.username} (uid ${user.uid}): ${code ?? String(err)}`, fix: [
        `chown ${user.username} ${keytab} && chmod 0600 ${keytab}   (fedgate runs as ${user.username} here)`,
      ] });
    return false;
  }
  findings.push({ level: 'ok', message: `keytab ${keytab} is readable by ${user.username} (uid ${user.uid}), mode ${(mode & 0o777).toString(8).padStart(4, '0')}` });
  if (mode & 0o004) {
    findings.push({
      level: 'warning',
      message: `keytab ${keytab} is readable by every user: whoever reads it can decrypt tickets for the service and impersonate anyone to fedgate`,
      fix: [`chmod 0600 ${keytab}   (owner: the user fedgate runs as)`],
    });
  }
  return true;
}

/** The keytab as `klist -k -t -e` (krb5-user) lists it; undefined when it cannot be listed. */
async function keytabEntries(keytab: string, findings: Finding[]): Promise<KeytabEntry[] | undefined> {
  const result = await new Promise<{ stdout: string; stderr: string; error?: ExecFileException }>((resolve) => {
    execFile('klist', ['-k', '-t', '-e', `FILE:${keytab}`], { timeout: 15_000, env: { ...process.env, LC_ALL: 'C' } },
      (error, stdout, stderr) => resolve({ stdout, stderr, ...(error ? { error } : {}) }));
  });
  if (result.error?.code === 'ENOENT') {
    findings.push({
      level: 'note',
      message: 'klist is not installed: the principals and encryption types in the keytab are not checked',
      fix: ['install it for a full check: apt-get install krb5-user (Debian, Ubuntu) or dnf install krb5-workstation (RHEL)'],
    });
    return undefined;
  }
  if (result.error) {
    findings.push({
      level: 'problem',
      message: `klist cannot read ${keytab} as a keytab: ${(result.stderr.trim() || result.error.message).replace(/^klist: /, '')}`,
      fix: ['export the keytab again on a domain controller (binary mode when copying it):', ktpass('HTTP/<host>', '<REALM>')],
    });
    return undefined;
  }
  return parseKlist(result.stdout);
}

/**
 * `klist -k -t -e` lines: "   3 11/26/26 10:41:50 HTTP/sts.example.com@EXAMPLE.COM (aes256-cts-hmac-sha1-96)".
 * The timestamp's form follows the locale, so only the first and the last two fields are read.
 */
export function parseKlist(output: string): KeytabEntry[] {
  const entries: KeytabEntry[] = [];
  for (const line of output.split('\n')) {
    const m = /^\s*(\d+)\s+.*?(\S+)\s+\(([^)]+)\)\s*$/.exec(line);
    if (m) entries.push({ kvno: Number(m[1]), principal: m[2]!, enctype: m[3]! });
  }
  return entries;
}

function parseSpn(text: string): ServicePrincipal {
  const [name, realm] = text.split('@') as [string, string | undefined];
  const [service, host] = name.split('/') as [string, string];
  return { service, host, ...(realm ? { realm } : {}) };
}

function matches(entry: KeytabEntry, spn: ServicePrincipal): boolean {
  const p = parseSpn(entry.principal);
  return p.service === spn.service && p.host.toLowerCase() === spn.host.toLowerCase()
    && (!spn.realm || p.realm?.toUpperCase() === spn.realm.toUpperCase());
}

/** Principal present, AES keys, realms accepted. */
function keytabContents(kerberos: KerberosConfig, spn: ServicePrincipal | undefined, baseHost: string, entries: KeytabEntry[], findings: Finding[]): void {
  const listed = describeEntries(entries);
  if (entries.length === 0) {
    findings.push({ level: 'problem', message: `keytab ${kerberos.keytab} is empty`, fix: [ktpass(`HTTP/${spn?.host ?? baseHost}`, kerberos.realms[0]!)] });
    return;
  }
  let used: KeytabEntry[];
  if (spn) {
    used = entries.filter((e) => matches(e, spn));
    if (used.length === 0) {
      const wanted = `${spn.service}/${spn.host}${spn.realm ? `@${spn.realm}` : ''}`;
      findings.push({
        level: 'problem',
        message: `the keytab has no key for servicePrincipal ${wanted}; it holds: ${listed}`,
        fix: [
          `register the SPN on the service account: ${setspn(`${spn.service}/${spn.host}`)}`,
          `export its keys: ${ktpass(`${spn.service}/${spn.host}`, spn.realm ?? kerberos.realms[0]!)}`,
          `replace ${kerberos.keytab} with fedgate.keytab (or set servicePrincipal to a principal the keytab holds)`,
        ],
      });
      return;
    }
    findings.push({ level: 'ok', message: `the keytab holds ${describeEntries(used)}` });
  } else {
    used = entries.filter((e) => e.principal.startsWith('HTTP/'));
    if (used.length === 0) {
      findings.push({
        level: 'problem',
        message: `servicePrincipal is not set (any principal of the keytab is accepted) but the keytab holds no HTTP/ principal: ${listed}`,
        fix: [`register and export HTTP/${baseHost}: ${setspn(`HTTP/${baseHost}`)}`, ktpass(`HTTP/${baseHost}`, kerberos.realms[0]!)],
      });
      return;
    }
    findings.push({ level: 'ok', message: `servicePrincipal is not set: tickets for any of ${describeEntries(used)} are accepted` });
    if (!used.some((e) => parseSpn(e.principal).host.toLowerCase() === baseHost.toLowerCase())) {
      findings.push({
        level: 'warning',
        message: `no HTTP/${baseHost} in the keytab: browsers ask for a ticket to the host of server.baseUrl`,
        fix: [setspn(`HTTP/${baseHost}`), ktpass(`HTTP/${baseHost}`, kerberos.realms[0]!)],
      });
    }
  }

  // The keys the KDC encrypts tickets with now: the newest kvno of each principal.
  const newest = new Map<string, number>();
  for (const e of used) newest.set(e.principal, Math.max(newest.get(e.principal) ?? 0, e.kvno));
  const current = used.filter((e) => e.kvno === newest.get(e.principal));
  for (const principal of newest.keys()) {
    const types = current.filter((e) => e.principal === principal).map((e) => e.enctype);
    if (types.some((t) => AES.test(t))) {
      findings.push({ level: 'ok', message: `${principal} has AES keys (${types.join(', ')})` });
    } else if (types.some((t) => RC4.test(t))) {
      findings.push({
        level: 'warning',
        message: `${principal} has only RC4 keys (${types.join(', ')}): the account's msDS-SupportedEncryptionTypes does not allow AES, so the domain controllers encrypt its tickets with RC4, which current Windows releases are disabling`,
        fix: AES_FIX,
      });
    } else {
      findings.push({ level: 'problem', message: `${principal} has neither AES nor RC4 keys (${types.join(', ')}): no browser gets a ticket fedgate can decrypt`, fix: AES_FIX });
    }
  }

  const accepted = new Set(kerberos.realms.map((r) => r.toUpperCase()));
  const realms = [...new Set(used.map((e) => parseSpn(e.principal).realm ?? ''))];
  const foreign = realms.filter((r) => !accepted.has(r.toUpperCase()));
  if (foreign.length > 0) {
    findings.push({
      level: 'problem',
      message: `the keytab's realm ${foreign.join(', ')} is not in authn.kerberos.realms (${kerberos.realms.join(', ')})`,
      fix: [`add ${foreign.join(', ')} to authn.kerberos.realms, or export the keytab from the domain whose users sign in`],
    });
  } else {
    findings.push({ level: 'ok', message: `the keytab's realm${realms.length > 1 ? 's' : ''} ${realms.join(', ')} ${realms.length > 1 ? 'are' : 'is'} in authn.kerberos.realms` });
  }
}

function describeEntries(entries: readonly KeytabEntry[]): string {
  const byPrincipal = new Map<string, string[]>();
  for (const e of entries) byPrincipal.set(e.principal, [...(byPrincipal.get(e.principal) ?? []), `kvno ${e.kvno} ${e.enctype}`]);
  return [...byPrincipal].map(([p, keys]) => `${p} (${keys.join(', ')})`).join('; ');
}

type KerberosModule = typeof import('kerberos');

/** Acquires acceptor credentials as the server will: the `kerberos` module with KRB5_KTNAME = the keytab. */
async function acceptorCheck(kerberos: KerberosConfig, spn: ServicePrincipal | undefined, entries: KeytabEntry[] | undefined, findings: Finding[]): Promise<void> {
  let module: KerberosModule;
  try {
    const imported = (await import('kerberos')) as KerberosModule & { default?: KerberosModule };
    module = imported.default ?? imported;
  } catch (err) {
    findings.push({
      level: 'problem',
      message: `the kerberos module cannot load, so fedgate reports Kerberos unavailable: ${(err as Error).message.split('\n')[0]}`,
      fix: [
        'it is a native module built at npm install time: install the build tools and the GSSAPI headers, then rebuild it:',
        'apt-get install python3 make g++ libkrb5-dev   (RHEL: krb5-devel); then in fedgate\'s folder: npm rebuild kerberos',
        'at run time it needs the GSSAPI library: apt-get install libgssapi-krb5-2',
      ],
    });
    return;
  }
  // The GSS host-based names the server will acquire credentials for.
  const hosts = spn ? [spn.host] : [...new Set((entries ?? []).filter((e) => e.principal.startsWith('HTTP/')).map((e) => parseSpn(e.principal).host))];
  if (hosts.length === 0) {
    if (!entries) findings.push({ level: 'note', message: 'servicePrincipal is not set and the keytab could not be listed: acceptor credentials were not checked' });
    return;
  }
  // Process-global, read by libkrb5 at call time: this command is a process of its own.
  process.env.KRB5_KTNAME = `FILE:${kerberos.keytab}`;
  for (const host of hosts) {
    try {
      await module.initializeServer(`HTTP@${host}`);
      const principal = await module.principalDetails('HTTP', host).catch(() => `HTTP/${host}`);
      findings.push({ level: 'ok', message: `acceptor credentials acquired for ${principal} (kerberos module ${module.version})` });
    } catch (err) {
      const message = (err as Error).message;
      const missing = /No key table entry found|not found in keytab/i.test(message);
      // Listed keytab: the missing principal and its fix are reported above already.
      const fix = missing && entries
        ? ['the keytab lacks the principal (above)']
        : missing
          ? [setspn(`HTTP/${host}`), ktpass(`HTTP/${host}`, spn?.realm ?? kerberos.realms[0]!)]
        : /format version|Bad format|Unsupported key table/i.test(message)
          ? ['the file is not a keytab: export it again with ktpass (copy it in binary mode)']
          : /Permission denied/i.test(message)
            ? [`chmod 0600 ${kerberos.keytab} and make the user fedgate runs as its owner`]
            : ['check the keytab with: klist -k -t -e ' + kerberos.keytab];
      findings.push({ level: 'problem', message: `acceptor credentials for HTTP/${host} cannot be acquired: ${message}`, fix });
    }
  }
}

const LABEL: Record<Level, string> = { ok: 'ok      ', note: 'note    ', warning: 'WARNING ', problem: 'PROBLEM ' };

function report(file: string, findings: readonly Finding[]): string {
  const lines = [`fedgate kerberos-check ${file}`];
  for (const f of findings) {
    lines.push(`${LABEL[f.level]}${f.message}`);
    for (const step of f.fix ?? []) lines.push(`        fix: ${step}`);
  }
  const problems = findings.filter((f) => f.level === 'problem').length;
  const warnings = findings.filter((f) => f.level === 'warning').length;
  lines.push(problems === 0
    ? `Kerberos configuration is usable${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}`
    : `${problems} problem${problems > 1 ? 's' : ''}${warnings ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}: Kerberos sign-in will not work until they are fixed`);
  return `${lines.join('\n')}\n`;
}
