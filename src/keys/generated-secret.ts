import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A secret generated once under dataDir/<folder>/<name> (mode 0600) and kept: pairwise and
 * persistent identifiers derived from it must not change between restarts. Never overwritten;
 * several nodes share it by configuring it instead (or sharing dataDir).
 */
export function generatedSecret(dataDir: string, folder: string, name: string): string {
  const dir = join(dataDir, folder);
  const file = join(dir, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(file, 'utf8').trim();
}
