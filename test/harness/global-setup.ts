import { readFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import {
  startMitKdc, startSamba, startSlapd, stopMitKdc, stopSamba, stopSlapd, type MitKdcServer, type SambaServer, type SlapdServer,
} from './servers.js';

/**
 * vitest globalSetup: ONE seeded slapd (21389/21636) and ONE Samba AD DC (389/636/88) for the
 * whole run, handed to tests with provide/inject (types in servers.ts), stopped at teardown.
 *
 * Samba takes 5-15 s to provision and needs root, so it is started only when a selected test
 * file uses it: calls inject('samba') or one of the samba* helpers of directories.ts
 * (FEDGATE_TEST_SAMBA=always forces it). When it is needed and cannot start,
 * the run fails with the reason: the Samba suite never silently skips.
 *
 * The MIT KDC (start-mit-kdc.sh, ~0.3 s) likewise starts only for files that call mitKdc() or
 * inject('mitKdc') (FEDGATE_TEST_MIT_KDC=always forces it).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const wantSamba = process.env.FEDGATE_TEST_SAMBA === 'always' || (await selectedFilesMention(project, USES_SAMBA));
  const wantMitKdc = process.env.FEDGATE_TEST_MIT_KDC === 'always' || (await selectedFilesMention(project, USES_MIT_KDC));
  const log = (msg: string) => process.stderr.write(`[global-setup] ${msg}\n`);

  const started = Date.now();
  const [slapd, samba, mitKdc] = await Promise.allSettled([
    startSlapd('slapd', 21389, 21636),
    wantSamba ? startSamba(15 * 60_000, (owner) => log(`waiting for Samba AD, held by test run ${owner}`)) : Promise.resolve(null),
    wantMitKdc ? startMitKdc() : Promise.resolve(null),
  ]);
  const stopAll = async () => {
    if (slapd.status === 'fulfilled') await stopSlapd(slapd.value);
    if (samba.status === 'fulfilled' && samba.value) await stopSamba(samba.value);
    if (mitKdc.status === 'fulfilled' && mitKdc.value) await stopMitKdc(mitKdc.value);
  };
  if (slapd.status === 'rejected' || samba.status === 'rejected' || mitKdc.status === 'rejected') {
    await stopAll();
    const reasons = [slapd, samba, mitKdc].filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => (r.reason instanceof Error ? r.reason.message : String(r.reason)));
    throw new Error(`test directory servers did not start:\n${reasons.join('\n')}`);
  }
  log(`slapd ${slapd.value.url} pid ${slapd.value.pid}` +
    (samba.value ? `; Samba AD ${samba.value.ldapUrl} pid ${samba.value.pid}` : '; Samba AD not needed') +
    (mitKdc.value ? `; MIT KDC 127.0.0.1:${mitKdc.value.kdcPort} pid ${mitKdc.value.pid}` : '; MIT KDC not needed') +
    ` (${((Date.now() - started) / 1000).toFixed(1)} s)`);

  project.provide('slapd', slapd.value satisfies SlapdServer);
  project.provide('samba', samba.value satisfies SambaServer | null);
  project.provide('mitKdc', mitKdc.value satisfies MitKdcServer | null);
  return stopAll;
}

const USES_SAMBA = /\binject\(\s*['"]samba['"]\s*\)|\bsamba(DirectoryConfig|Server|Ldapsearch|Ldbsearch|Kerberos)\(|\b(create|disable)SambaUser\(/;
const USES_MIT_KDC = /\binject\(\s*['"]mitKdc['"]\s*\)|\bmitKdc\(/;

/** Whether any test file of this run (after CLI filters) contains `pattern`. */
async function selectedFilesMention(project: TestProject, pattern: RegExp): Promise<boolean> {
  // vitest keeps the CLI file filters on the (internal) filenamePattern; without it, all files count.
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  const { testFiles } = await project.globTestFiles(filters);
  return testFiles.some((file) => pattern.test(readFileSync(file, 'utf8')));
}
