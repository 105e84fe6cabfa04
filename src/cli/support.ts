import { X509Certificate } from 'node:crypto';
import { chownSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { IdpError } from '../core/errors.js';
import { generatedKeyPaths } from '../keys/key-store.js';

/** Shared plumbing of the operator commands (`entra-domain`, `keys`): options, config, certificates. */

export { EXPIRY_WARNING_DAYS } from '../keys/key-store.js';

/** What a command prints before exiting: usage problems exit 2, refusals and failures 1. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
    this.name = 'CliError';
  }
}

/** parseArgs, with its errors turned into a usage error that names the command's usage. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: T, usage: string) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${usage}`, 2);
  }
}

/** The configuration named by --config or FEDGATE_CONFIG (as `serve` reads it). */
export function loadCommandConfig(path: string | undefined, usage: string): Config {
  const file = path ?? process.env.FEDGATE_CONFIG;
  if (!file) throw new CliError(`--config FILE is required\n\n${usage}`, 2);
  try {
    return loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 1);
    throw err;
  }
}

/** Runs a command body; a CliError (or a key the key store refused) is printed without a stack trace. */
export async function runCommand(body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof IdpError) {
      process.stderr.write(`${err.message}${err.detail ? ` (${err.detail})` : ''}\n`);
      return 1;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code && (err as NodeJS.ErrnoException).path) {
      // A file the command could not read or write: the path and the reason are what an operator needs.
      process.stderr.write(`${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}

/** SHA-1 and SHA-256 of the DER, as uppercase hex without separators: the form AD FS and Entra show as "thumbprint". */
export function thumbprints(cert: X509Certificate): { sha1: string; sha256: string } {
  return { sha1: cert.fingerprint.replace(/:/g, '').toUpperCase(), sha256: cert.fingerprint256.replace(/:/g, '').toUpperCase() };
}

export function daysLeft(cert: X509Certificate, now: number = Date.now()): number {
  return Math.floor((new Date(cert.validTo).getTime() - now) / 86_400_000);
}

/** One line naming a certificate well enough to find it in Entra, AD FS or a certificate store. */
export function describeCertificate(cert: X509Certificate, now: number = Date.now()): string {
  const days = daysLeft(cert, now);
  const expiry = days < 0 ? `EXPIRED ${isoDate(cert.validTo)}` : `expires ${isoDate(cert.validTo)}, ${days} days left`;
  return `${cert.subject.replace(/\n/g, ', ')}, SHA-1 thumbprint ${thumbprints(cert).sha1}, ${expiry}`;
}

export function isoDate(text: string): string {
  return new Date(text).toISOString().slice(0, 10);
}

/**
 * The DER bytes of a certificate as Entra stores it (base64 DER) or as an admin may have pasted it
 * (with PEM armour, wrapped lines). undefined when it is no base64 at all.
 */
export function certificateDer(text: string): Buffer | undefined {
  const body = text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  if (body === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return undefined;
  return Buffer.from(body, 'base64');
}

export function parseCertificate(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

/**
 * Files an operator command creates as root in a folder the service owns get the folder's owner:
 * otherwise `sudo fedgate keys next` leaves a key the fedgate user cannot read, and the next start fails.
 */
export function giveToFolderOwner(folder: string, files: readonly string[]): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  const { uid, gid } = statSync(folder);
  if (uid === 0) return;
  for (const file of files) chownSync(file, uid, gid);
}

/** Where `keys promote` keeps the retired current key: beside the generated ones (key-store.ts), never loaded. */
export function previousKeyPaths(dataDir: string): { keyFile: string; certFile: string } {
  const { dir } = generatedKeyPaths(dataDir, 'current');
  return { keyFile: join(dir, 'previous-key.pem'), certFile: join(dir, 'previous-cert.pem') };
}
