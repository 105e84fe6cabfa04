import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateSigningCertificate } from '../../src/keys/generate-certificate.js';
import { writeGeneratedKey } from '../../src/keys/key-store.js';

/** The operator commands as an admin runs them: a real `fedgate` process per call (as test/http/cli.test.ts). */
const CLI = ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'test/harness/run-cli.ts')];

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function fedgate(...args: string[]): Run {
  const run = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: { ...process.env, FEDGATE_CONFIG: '' } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fedgate-cli-'));
}

/** A configuration file in `dir` (dataDir = dir/data) with an Entra relying party; `extra` adds or replaces top-level keys. */
export function writeConfig(dir: string, extra: Record<string, unknown> = {}): string {
  const file = join(dir, 'fedgate.yaml');
  writeFileSync(file, stringify({
    server: { baseUrl: 'https://sts.contoso.com' },
    dataDir: './data',
    directory: { type: 'file', path: join(process.cwd(), 'examples/demo-users.yaml') },
    federation: { displayName: "Contoso's sign-in" },
    relyingParties: [{ protocol: 'wsfed', profile: 'entra', domains: ['contoso.com', { name: 'fabrikam.com', issuerUri: 'urn:fabrikam:sts' }] }],
    ...extra,
  }));
  return file;
}

/** Base64 of the DER of a PEM certificate file: what Entra stores as signingCertificate. */
export function certBase64(pemFile: string): string {
  return new X509Certificate(readFileSync(pemFile)).raw.toString('base64');
}

export function sha1Thumbprint(pemFile: string): string {
  return new X509Certificate(readFileSync(pemFile)).fingerprint.replace(/:/g, '');
}

const DAY = 86_400_000;

/** A configuration whose dataDir already holds generated keys in the given slots (as fedgate writes them). */
export async function configWithGeneratedKeys(slots: readonly ('current' | 'next')[], validityDays = 365, extra: Record<string, unknown> = {}) {
  const dir = tempDir();
  const config = writeConfig(dir, extra);
  const dataDir = join(dir, 'data');
  for (const slot of slots) await writeGeneratedKey(dataDir, slot, 'sts.contoso.com', validityDays * DAY);
  return { dir, config, dataDir };
}

/** A configuration whose signing key comes from files (signing.keyFile/certFile) valid for `validityDays`. */
export async function configWithKeyFiles(validityDays: number) {
  const dir = tempDir();
  const pair = await generateSigningCertificate('sts.contoso.com', validityDays * DAY);
  writeFileSync(join(dir, 'signing.key'), pair.keyPem);
  writeFileSync(join(dir, 'signing.crt'), pair.certPem);
  const config = writeConfig(dir, { signing: { keyFile: 'signing.key', certFile: 'signing.crt' } });
  return { dir, config, certFile: join(dir, 'signing.crt') };
}
