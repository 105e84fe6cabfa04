import { chmodSync, copyFileSync, existsSync, readFileSync, renameSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { generatedKeyPaths, loadKeyStore, parseSigningKey, writeGeneratedKey, type SigningKey } from '../keys/key-store.js';
import { createLogger } from '../observability/logger.js';
import { entraDomains, graphUrl, updateCommands } from './entra-domain.js';
import {
  CliError, EXPIRY_WARNING_DAYS, daysLeft, giveToFolderOwner, loadCommandConfig, parseCommandArgs, previousKeyPaths,
  runCommand, thumbprints,
} from './support.js';

/**
 * `fedgate keys next|promote|show`: the token-signing key rollover for generated keys
 * (dataDir/signing). Running servers poll the key files (keys/key-watch.ts): no restart is needed.
 */
export const KEYS_USAGE = `usage: fedgate keys next --config FILE      create the next signing key and certificate (dataDir/signing/next-*.pem)
       fedgate keys promote --config FILE   make the next key current (the old one is kept as previous-*.pem)
       fedgate keys show --config FILE      the current and next certificates: subject, thumbprints, validity

  running fedgate servers read the key files again within seconds: no restart is needed.
`;

/** Every node must see the files (a shared dataDir, or a copy on each); OpenID Connect's signing keys are read at start. */
const pickedUp = 'Running fedgate servers sign with these files within seconds, no restart needed, on every node that sees them (share dataDir or copy the files to each node); OpenID Connect keeps its keys until a restart (SIGHUP with several workers).';

export async function runKeys(args: readonly string[]): Promise<number> {
  return runCommand(async () => {
    const { values, positionals } = parseCommandArgs(args, { config: { type: 'string', short: 'c' } }, KEYS_USAGE);
    const [action, ...extra] = positionals;
    if (extra.length > 0) throw new CliError(`unexpected argument: ${extra.join(' ')}\n\n${KEYS_USAGE}`, 2);
    if (action !== 'next' && action !== 'promote' && action !== 'show') {
      throw new CliError(`${action ? `unknown keys command: ${action}` : 'keys needs next, promote or show'}\n\n${KEYS_USAGE}`, 2);
    }
    const config = loadCommandConfig(values.config, KEYS_USAGE);
    if (action === 'show') return show(config);
    refuseConfiguredKeys(config, action);
    return action === 'next' ? next(config) : promote(config);
  });
}

/** Keys from configured files belong to whoever manages those files: fedgate writes only the generated ones. */
function refuseConfiguredKeys(config: Config, action: 'next' | 'promote'): void {
  if (config.signing.keyFile) {
    throw new CliError(action === 'next'
      ? 'the signing key comes from configured files (signing.keyFile): create the next key and certificate yourself and configure them as signing.next { keyFile, certFile }, then restart fedgate'
      : 'the signing key comes from configured files (signing.keyFile): point signing.keyFile and signing.certFile at the next pair and remove signing.next, then restart fedgate', 1);
  }
  if (config.signing.next) {
    throw new CliError(`signing.next is configured (${config.signing.next.certFile}): ${action === 'next'
      ? 'that is the next key; remove it from the configuration first to have fedgate generate one'
      : 'configure that pair as signing.keyFile and signing.certFile instead, then restart fedgate'}`, 1);
  }
}

function loadPair(paths: { keyFile: string; certFile: string }): SigningKey {
  return parseSigningKey(readFileSync(paths.keyFile, 'utf8'), readFileSync(paths.certFile, 'utf8'), paths.certFile);
}

const pairExists = (paths: { keyFile: string; certFile: string }) => existsSync(paths.keyFile) || existsSync(paths.certFile);

async function next(config: Config): Promise<number> {
  const current = generatedKeyPaths(config.dataDir, 'current');
  const paths = generatedKeyPaths(config.dataDir, 'next');
  if (!existsSync(current.keyFile) || !existsSync(current.certFile)) {
    throw new CliError(`there is no current key under ${current.dir} yet: fedgate generates it at its first start (or with fedgate entra-domain); create the next one after that`, 1);
  }
  if (pairExists(paths)) {
    throw new CliError(`a next key already exists (${paths.certFile}): make it current with fedgate keys promote, or delete ${paths.keyFile} and ${paths.certFile} to start over`, 1);
  }
  // Same subject and validity rules as the key the server generates (key-store.ts).
  await writeGeneratedKey(config.dataDir, 'next', new URL(config.server.baseUrl).hostname, config.signing.generatedValidity);
  giveToFolderOwner(paths.dir, [paths.keyFile, paths.certFile]);
  const key = loadPair(paths);
  const lines = [
    `created the next token-signing key ${paths.keyFile} (mode 0600) and certificate ${paths.certFile}`,
    ...describeKey(key),
    '',
    "base64 DER (Entra's nextSigningCertificate):",
    key.certificateBase64,
    '',
    `1. ${pickedUp} fedgate then publishes the certificate in its federation metadata, where Entra's automatic rollover finds it 30-35 days before the current one expires.`,
    '2. Give it to Entra now for each federated domain (Entra accepts tokens signed with either certificate):',
    ...entraUpdateHint(config, 'nextSigningCertificate', key.certificateBase64),
    '3. Once Entra holds it (fedgate entra-domain --check), run fedgate keys promote.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function promote(config: Config): Promise<number> {
  const current = generatedKeyPaths(config.dataDir, 'current');
  const nextPaths = generatedKeyPaths(config.dataDir, 'next');
  if (!existsSync(nextPaths.keyFile) || !existsSync(nextPaths.certFile)) {
    throw new CliError(`there is no next key (${nextPaths.keyFile} and ${nextPaths.certFile}): create one with fedgate keys next`, 1);
  }
  // A pair that does not load must not become current: the server would refuse to start.
  const key = loadPair(nextPaths);
  const previous = previousKeyPaths(config.dataDir);
  const kept: string[] = [];
  if (existsSync(current.keyFile) && existsSync(current.certFile)) {
    // Copy, not move: current-*.pem never goes missing, or a start in between would generate a new key.
    copyFileSync(current.keyFile, previous.keyFile);
    chmodSync(previous.keyFile, 0o600);
    copyFileSync(current.certFile, previous.certFile);
    giveToFolderOwner(current.dir, [previous.keyFile, previous.certFile]);
    kept.push(`the old current key is kept as ${previous.keyFile} and ${previous.certFile} (fedgate no longer uses it)`);
  }
  // Each rename replaces its target atomically; between the two, key and certificate differ and
  // the key store refuses to start rather than sign with a mismatched pair.
  renameSync(nextPaths.keyFile, current.keyFile);
  renameSync(nextPaths.certFile, current.certFile);
  const lines = [
    `the next key is now current: ${current.certFile}`,
    ...describeKey(key),
    ...kept,
    '',
    `1. ${pickedUp} Entra must already hold this certificate (as nextSigningCertificate): check with fedgate entra-domain --check.`,
    '2. When every instance runs with it, make it Entra\'s signingCertificate for each federated domain:',
    ...entraUpdateHint(config, 'signingCertificate', key.certificateBase64),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function show(config: Config): Promise<number> {
  const current = generatedKeyPaths(config.dataDir, 'current');
  if (!config.signing.keyFile && !(existsSync(current.keyFile) && existsSync(current.certFile))) {
    // Reading must not create: loadKeyStore would generate the missing key.
    process.stdout.write(`current: none yet: fedgate generates it under ${current.dir} at its first start\n`);
    return 0;
  }
  const keys = await loadKeyStore(config, createLogger('silent'));
  const lines = [`current ${keys.current.source}`, ...describeKey(keys.current)];
  if (keys.next) lines.push(`next ${keys.next.source}`, ...describeKey(keys.next));
  else lines.push(`next: none${config.signing.keyFile ? ' (configure signing.next)' : ' (fedgate keys next creates one)'}`);
  const left = daysLeft(keys.current.certificate);
  if (left < EXPIRY_WARNING_DAYS) {
    lines.push(`WARNING: the current certificate ${left < 0 ? 'has expired' : `expires in ${left} days`}${keys.next ? ': promote the next one once Entra holds it' : ': create the next one now (fedgate keys next) and give it to Entra'}`);
  }
  if (keys.next && daysLeft(keys.next.certificate) < EXPIRY_WARNING_DAYS) {
    lines.push(`WARNING: the next certificate expires in ${daysLeft(keys.next.certificate)} days`);
  }
  lines.push(pickedUp);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function describeKey(key: SigningKey): string[] {
  const { sha1, sha256 } = thumbprints(key.certificate);
  return [
    `  subject            ${key.certificate.subject.replace(/\n/g, ', ')}`,
    `  thumbprint SHA-1   ${sha1}`,
    `  thumbprint SHA-256 ${sha256}`,
    `  notBefore          ${new Date(key.certificate.validFrom).toISOString()}`,
    `  notAfter           ${key.notAfter.toISOString()}`,
    `  days left          ${daysLeft(key.certificate)}`,
  ];
}

/** The Graph PATCH and the PowerShell lines that set one certificate property of each federated domain. */
function entraUpdateHint(config: Config, property: 'signingCertificate' | 'nextSigningCertificate', base64: string): string[] {
  const domains = entraDomains(config).map((d) => d.name);
  const names = domains.length > 0 ? domains : ['<your domain>'];
  return names.flatMap((domain) => [
    `   PATCH ${graphUrl(domain)}/{id}   (the id from GET ${graphUrl(domain)})`,
    `   ${JSON.stringify({ [property]: base64 })}`,
    ...updateCommands(domain, { [property]: base64 }).map((line) => `   ${line}`),
  ]);
}
