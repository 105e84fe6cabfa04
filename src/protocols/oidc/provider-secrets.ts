import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OidcConfig } from '../../config/schema.js';

/**
 * The provider's own secrets: the keys that sign its cookies and the salt of pairwise subjects.
 * Configured (oidc.cookieKeys, oidc.pairwiseSalt) or generated once under dataDir/oidc (mode
 * 0600) and kept: a new salt would change every pairwise sub, new cookie keys sign everyone out.
 */
export interface ProviderSecrets {
  readonly cookieKeys: string[];
  readonly pairwiseSalt: string;
}

/** Reads dataDir/oidc/<name>, creating it with a random value first if absent (never overwritten). */
function generatedSecret(dataDir: string, name: string): string {
  const dir = join(dataDir, 'oidc');
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

export function loadProviderSecrets(config: OidcConfig, dataDir: string): ProviderSecrets {
  return {
    cookieKeys: config.cookieKeys ?? [generatedSecret(dataDir, 'cookie-key')],
    pairwiseSalt: config.pairwiseSalt ?? generatedSecret(dataDir, 'pairwise-salt'),
  };
}
